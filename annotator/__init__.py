"""resmark: offline annotator of resistance markers in tumour and ctDNA variant calls.

Research use only. Not for diagnostic or therapeutic decisions.

The Python API mirrors the command line::

    from annotator import annotate, AnnotateConfig
    result = annotate(AnnotateConfig(inputs=["tumour.vcf.gz"], outdir="out"))
    summary = result.samples[0].accounting.summary_line()

Heavy modules (cyvcf2, pysam, pyarrow) are imported lazily so that
``import annotator`` and ``resmark --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from annotator.core.about import RESEARCH_USE_ONLY, __version__

__all__ = ["RESEARCH_USE_ONLY", "__version__", "annotate", "AnnotateConfig", "load_panel"]

if TYPE_CHECKING:  # pragma: no cover
    from annotator.api import AnnotateConfig, annotate
    from annotator.knowledge import load_panel


def __getattr__(name: str) -> Any:
    if name in ("annotate", "AnnotateConfig", "AnnotateResult"):
        from annotator import api

        return getattr(api, name)
    if name == "load_panel":
        from annotator.knowledge import load_panel

        return load_panel
    raise AttributeError(name)
