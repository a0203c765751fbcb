"""The public Python API, the same jobs as the command line.

    from annotator.api import annotate, AnnotateConfig
    result = annotate(AnnotateConfig(inputs=["tumour.vcf.gz"], outdir="out"))

Everything raises ``annotator.errors.ResmarkError`` subclasses and never exits;
``annotator.cli`` is a thin click layer over these names.
"""

from __future__ import annotations

from annotator.annotation.config import AnnotateConfig, AnnotateResult, RunContext, check_config
from annotator.annotation.pipeline import SampleAnnotation
from annotator.annotation.run import annotate
from annotator.annotation.single import annotate_file
from annotator.knowledge import load_panel

__all__ = [
    "AnnotateConfig",
    "AnnotateResult",
    "RunContext",
    "SampleAnnotation",
    "annotate",
    "annotate_file",
    "check_config",
    "load_panel",
]
