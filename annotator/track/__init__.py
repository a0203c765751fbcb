"""Serial ctDNA tracking: ``track(TrackConfig(...)) -> TrackResult`` (``resmark track``).

See docs/track.md for the status and change vocabularies and the statistics.
"""

from __future__ import annotations

from annotator.track.engine import track, track_patient
from annotator.track.model import (
    CHANGES,
    RESPONSES,
    STATUSES,
    Evidence,
    Observation,
    Thresholds,
    TimepointSpec,
    TrackConfig,
    TrackedVariant,
)
from annotator.track.result import PatientTrack, TrackContext, TrackResult

__all__ = [
    "CHANGES",
    "RESPONSES",
    "STATUSES",
    "Evidence",
    "Observation",
    "PatientTrack",
    "Thresholds",
    "TimepointSpec",
    "TrackConfig",
    "TrackContext",
    "TrackResult",
    "TrackedVariant",
    "track",
    "track_patient",
]
