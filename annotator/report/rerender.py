"""Re-render HTML (and MAF) from an annotate output directory's JSON documents.

``rerender(outdir, formats=("html",), target=None)`` reads every
``<sample>.resmark.json`` written by ``resmark annotate`` and writes
``<sample>.report.html`` / ``<sample>.resmark.maf`` beside it (or into
``target``).  The panel named in the document's provenance is loaded for the
evidence-level legend only when its checksum still matches; otherwise the
report says what the document says and uses the default legend.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core.jsondoc import JsonObject
from annotator.errors import InputError, OutputError, UsageError

if TYPE_CHECKING:
    from annotator.core.rows import Row
    from annotator.report.views import PanelInfo

log = logging.getLogger(__name__)

RERENDER_FORMATS = ("html", "maf")
_SUFFIX = ".resmark.json"


@dataclass
class RerenderResult:
    outdir: Path
    written: list[Path] = field(default_factory=list)
    panel_matched: bool = False


def _panel_for(doc: JsonObject) -> tuple[PanelInfo | None, bool]:
    from annotator.report.context import panel_info

    meta = (doc.get("resmark") or {}).get("panel") or {}
    try:
        from annotator.knowledge import load_panel

        panel = load_panel(meta.get("name") or None)
    except Exception as e:  # noqa: BLE001 - the legend is optional; say why and go on
        log.info("panel %s not loaded (%s); default evidence-level legend used", meta.get("name"), e)
        return None, False
    if meta.get("checksum_sha256") and meta["checksum_sha256"] != panel.checksum:
        log.warning("panel %s has changed since the run (checksum differs); the report shows the "
                    "run's results with the default legend", meta.get("name"))
        return None, False
    return panel_info(panel), True


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".resmark-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write ({e.strerror})", path=path) from e


def _header_lines(prov: JsonObject) -> list[str]:
    from annotator.core.about import RESEARCH_USE_ONLY

    panel = prov.get("panel") or {}
    lines = [
        f"resmark_version={prov.get('tool_version')}",
        f"resmark_command={prov.get('command')}",
        f"resmark_panel={panel.get('name')} {panel.get('version')} ({panel.get('release_date')}) "
        f"sha256:{panel.get('checksum_sha256')}",
        f"resmark_genome_build={prov.get('genome_build')}",
        f"resmark_samples={','.join(prov.get('samples') or [])}",
    ]
    lines += [f"resmark_input={i.get('role')}:{i.get('path')} sha256:{i.get('sha256')}"
              for i in prov.get("inputs") or []]
    lines.append(f"resmark_note={RESEARCH_USE_ONLY}")
    lines.append("resmark_rerendered_from=JSON document")
    return lines


def rows_from_document(doc: JsonObject) -> list[Row]:
    from annotator.core.rows import Row

    names = {f.name for f in fields(Row)}
    return [Row(**{k: v for k, v in r.items() if k in names}) for r in doc.get("rows") or []]


def rerender(
    outdir: str | Path, formats: Sequence[str] = ("html",), target: str | Path | None = None
) -> RerenderResult:
    from annotator.io import mafout
    from annotator.report.html import render_sample_document

    src = Path(outdir)
    bad = [f for f in formats if f not in RERENDER_FORMATS]
    if bad:
        raise UsageError(f"cannot re-render {', '.join(bad)}; choose from {', '.join(RERENDER_FORMATS)}")
    if not src.is_dir():
        raise UsageError("not a directory", path=src)
    docs = sorted(src.glob(f"*{_SUFFIX}"))
    if not docs:
        raise InputError(f"no *{_SUFFIX} documents (run resmark annotate with --formats json)", path=src)
    dest = Path(target) if target is not None else src
    dest.mkdir(parents=True, exist_ok=True)
    result = RerenderResult(outdir=dest)
    cached: dict[str, tuple[PanelInfo | None, bool]] = {}
    for path in docs:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"cannot read JSON document ({e})", path=path) from e
        if not isinstance(doc, dict) or "rows" not in doc:
            raise InputError("not a resmark annotate document (no 'rows')", path=path)
        stem = path.name[: -len(_SUFFIX)]
        key = json.dumps((doc.get("resmark") or {}).get("panel") or {}, sort_keys=True)
        if key not in cached:
            cached[key] = _panel_for(doc)
        info, matched = cached[key]
        result.panel_matched = result.panel_matched or matched
        if "html" in formats:
            out = dest / f"{stem}.report.html"
            _atomic_write(out, render_sample_document(doc, info))
            result.written.append(out)
        if "maf" in formats:
            out = dest / f"{stem}.resmark.maf"
            rows = rows_from_document(doc)
            build = str(doc.get("genome_build") or "GRCh38")
            fd, tmp = tempfile.mkstemp(prefix=".resmark-", dir=dest)
            os.close(fd)
            try:
                mafout.write_rows(tmp, rows, build=build,
                                  header_lines=_header_lines(doc.get("resmark") or {}))
                os.replace(tmp, out)
            finally:
                Path(tmp).unlink(missing_ok=True)
            result.written.append(out)
    return result
