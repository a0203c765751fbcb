"""Shared fixtures: paths to the project's tiny fixtures and to ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_VCFS = REPO / "test_vcfs"


def _shared_root() -> Path | None:
    env = os.environ.get("RESMARK_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared")
    for c in candidates:
        if c.is_dir():
            return c
    return None


def datapath(*parts: str) -> Path:
    """Path of a fixture under test_vcfs/."""
    return TEST_VCFS.joinpath(*parts)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (or $RESMARK_SHARED); tests using it skip when it is absent."""
    root = _shared_root()
    if root is None:
        pytest.skip("../shared is absent (set RESMARK_SHARED to run the external-corpus tests)")
    return root
