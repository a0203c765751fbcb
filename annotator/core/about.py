"""The package's version and the research-use statement every output carries.

Kept apart from ``annotator/__init__.py`` so that low layers (provenance,
reports) can name them without importing the public API above them.
"""

from __future__ import annotations

__version__ = "0.1.0"

RESEARCH_USE_ONLY = (
    "Research use only. resmark output is not validated for diagnostic use and "
    "must not guide treatment of individual patients."
)
