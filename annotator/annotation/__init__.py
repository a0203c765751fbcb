"""The annotate run: one VCF (``single``) or a cohort (``cohort``) through the
pipeline, with outputs written atomically (``outputs``).  See
docs/ARCHITECTURE.md for where this sits among the layers."""
