"""Offline consequence engine and HGVS: ``ConsequenceEngine(reference).annotate(key)``."""

from __future__ import annotations

from annotator.consequence.engine import ConsequenceEngine

__all__ = ["ConsequenceEngine"]
