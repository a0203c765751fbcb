"""The curated knowledge base: load a panel and match alterations against it.

    from annotator.knowledge import load_panel
    panel = load_panel()                      # built-in resmark_core
    matches = match_alteration(panel, alteration)         # most specific rule first
    flags = compute_flags(panel, [(key, alteration, matches), ...])

The panel itself is data (``panels/resmark_core/*.yaml``), validated with the
JSON Schema in ``annotator/knowledge/schema`` and cross-checked on load; see
docs/knowledge_base.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from annotator.knowledge.matcher import compute_flags, match_alteration
from annotator.knowledge.model import (
    MATCH_LEVEL_RANK,
    EvidenceItem,
    EvidenceLevel,
    Flag,
    Gene,
    Mechanism,
    NonDnaMarker,
    Panel,
    Rule,
    RuleMatch,
    Source,
    Strategy,
)

if TYPE_CHECKING:
    from annotator.knowledge.loader import RawPanel

__all__ = [
    "MATCH_LEVEL_RANK",
    "EvidenceItem",
    "EvidenceLevel",
    "Flag",
    "Gene",
    "Mechanism",
    "NonDnaMarker",
    "Panel",
    "Rule",
    "RuleMatch",
    "Source",
    "Strategy",
    "compute_flags",
    "load_panel",
    "match_alteration",
]


def load_panel(spec: str | Path | None = None, extend: bool = False) -> Panel:
    """Load, validate and cross-check a panel.

    ``spec``: None or "resmark_core" for the built-in panel; otherwise a panel
    directory or a single YAML file.  ``extend=True`` merges the user's
    entries over the built-in panel (same id replaces, new ids are added).
    Raises ``PanelError`` naming file, entry and field on any fault.
    """
    from annotator.knowledge.build import build_panel
    from annotator.knowledge.loader import merge, read_raw, resolve_spec

    components: tuple[tuple[str, str, str], ...] = ()
    if extend and spec is not None and resolve_spec(spec) != resolve_spec(None):
        base = read_raw(None)
        user = read_raw(spec, partial=True)
        raw = merge(base, user)
        user_meta = user.meta or {"name": user.source_path.stem, "version": "unversioned"}
        components = (
            (base.meta["name"], base.meta["version"], base.checksum()),
            (str(user_meta["name"]), str(user_meta["version"]), user.checksum()),
        )
    else:
        raw = _read_cached(spec)
    checksum = raw.checksum()
    panel = build_panel(raw, checksum, components)
    return panel


def _read_cached(spec: str | Path | None) -> RawPanel:
    """``read_raw(spec)``, from the validated-panel cache when the files are unchanged."""
    from annotator.knowledge import panelcache
    from annotator.knowledge.loader import read_raw

    raw, key = panelcache.load(spec)
    if raw is not None:
        return raw
    raw = read_raw(spec)
    if key is not None:
        panelcache.store(key, raw)
    return raw
