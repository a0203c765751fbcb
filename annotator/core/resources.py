"""Where shipped data lives: packaged panels and the embedded reference.

In a wheel the panels sit at ``annotator/_panels`` (hatch force-include);
in a source checkout or editable install they are ``<repo>/panels``.
"""

from __future__ import annotations

from pathlib import Path

# this module sits in annotator/core/; the data paths are relative to the package
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def panels_dir() -> Path:
    packaged = _PACKAGE_DIR / "_panels"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "panels"


def reference_dir() -> Path:
    """Embedded transcript models and panel-gene sequence (built by scripts/build_reference.py)."""
    return _PACKAGE_DIR / "data" / "reference"


def templates_dir() -> Path:
    return _PACKAGE_DIR / "templates"
