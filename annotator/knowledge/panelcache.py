"""The validated panel, cached between runs, keyed by the checksum of what it was read from.

Reading a panel parses its YAML and checks every section against the JSON
Schema, the largest fixed cost of a run.  The result of that step (the
``RawPanel``: plain JSON values plus where each entry came from) is stored
as JSON in the user's cache directory (``$XDG_CACHE_HOME/resmark`` or
``~/.cache/resmark``; ``RESMARK_CACHE_DIR`` overrides, ``RESMARK_NO_CACHE=1``
turns it off) under the SHA-256 of the panel files' bytes, the schema's and
resmark's version: any edit to a panel file, a schema change or a new
release is a different key.  The cross-checks of ``build_panel`` run on
every load; only parsing and schema validation are skipped.

JSON, not pickle: a cache file is data, never code.  A cache that cannot be
read or written is ignored (the panel is read as if there were none).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

from annotator.core.about import __version__
from annotator.core.jsondoc import JsonObject
from annotator.knowledge.loader import LIST_SECTIONS, SCHEMA_PATH, Entry, RawPanel, resolve_spec

log = logging.getLogger(__name__)

FORMAT = 1  # layout of the cache file


def cache_dir() -> Path | None:
    if os.environ.get("RESMARK_NO_CACHE", "") not in ("", "0"):
        return None
    if os.environ.get("RESMARK_CACHE_DIR"):
        return Path(os.environ["RESMARK_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "resmark"


def _files(path: Path) -> list[Path]:
    # the files read_raw reads, in its order
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def key(spec: str | Path | None) -> str | None:
    try:
        path = resolve_spec(spec)
        h = hashlib.sha256(f"resmark {__version__} cache {FORMAT}\n".encode())
        h.update(SCHEMA_PATH.read_bytes())
        for f in _files(path):
            h.update(f"\n{f.resolve()}\n".encode("utf-8", "surrogateescape"))
            h.update(f.read_bytes())
    except OSError:
        return None
    return h.hexdigest()


def load(spec: str | Path | None) -> tuple[RawPanel | None, str | None]:
    """The cached raw panel (or None) and the key it is stored under (None: no cache)."""
    folder, k = cache_dir(), key(spec)
    if folder is None or k is None:
        return None, None
    try:
        raw = _from_payload(json.loads((folder / f"panel-{k}.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None, k
    return raw, k


def _from_payload(data: JsonObject) -> RawPanel:
    return RawPanel(
        meta=data["meta"],
        meta_file=Path(data["meta_file"]),
        sections={s: [Entry(d, Path(f), i) for d, f, i in data["sections"][s]]
                  for s in LIST_SECTIONS if s in data["sections"]},
        source_path=Path(data["source_path"]),
    )


def store(k: str, raw: RawPanel) -> None:
    folder = cache_dir()
    if folder is None:
        return
    payload: JsonObject = {
        "meta": raw.meta,
        "meta_file": str(raw.meta_file),
        "source_path": str(raw.source_path),
        "sections": {s: [[e.data, str(e.file), e.index] for e in entries] for s, entries in raw.sections.items()},
    }
    tmp = None
    try:
        text = json.dumps(payload, ensure_ascii=False)
        if _from_payload(json.loads(text)).checksum() != raw.checksum():
            return  # something JSON cannot hold exactly (non-text keys): no cache for this panel
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".panel-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, folder / f"panel-{k}.json")  # readers see the whole file or none
    except (OSError, TypeError, ValueError) as e:
        log.debug("panel cache not written (%s)", e)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
