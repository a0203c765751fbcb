"""Read panel YAML, validate it against the shipped JSON Schema, merge, checksum.

A panel is either a directory of YAML files (each file holds one or more
top-level sections: ``panel``, ``sources``, ``genes``, ``mechanisms``,
``strategies``, ``evidence``, ``rules``, ``non_dna_markers``) or a single
YAML file holding all of them.  YAML is read by ``safeyaml`` (safe constructor only, with limits).
Errors are ``PanelError`` naming the file, the entry (``rules[12]``) and
the field.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from annotator.core.jsondoc import JsonObject, JsonValue
from annotator.errors import PanelError
from annotator.knowledge import safeyaml

log = logging.getLogger(__name__)

BUILTIN_NAME = "resmark_core"
SECTIONS = (
    "panel",
    "sources",
    "genes",
    "mechanisms",
    "strategies",
    "evidence",
    "rules",
    "non_dna_markers",
    "interactions",
)
LIST_SECTIONS = SECTIONS[1:]
REQUIRED_SECTIONS = ("panel", "sources", "genes", "mechanisms", "rules")
ID_KEY = {section: ("symbol" if section == "genes" else "id") for section in LIST_SECTIONS}
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "panel.schema.json"


@dataclass(frozen=True)
class Entry:
    """One list entry with where it came from (for error messages)."""

    data: JsonObject
    file: Path
    index: int  # position inside its section in that file


@dataclass(frozen=True)
class RawPanel:
    """Validated but not yet cross-checked panel content."""

    meta: JsonObject
    meta_file: Path
    sections: dict[str, list[Entry]]
    source_path: Path

    def canonical(self) -> JsonObject:
        out: JsonObject = {"panel": self.meta}
        for section in LIST_SECTIONS:
            out[section] = [e.data for e in self.sections.get(section, [])]
        return out

    def checksum(self) -> str:
        text = json.dumps(
            self.canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def builtin_panel_dir() -> Path:
    from annotator.core.resources import panels_dir

    return panels_dir() / BUILTIN_NAME


def resolve_spec(spec: str | Path | None) -> Path:
    if spec is None or str(spec) == BUILTIN_NAME:
        return builtin_panel_dir()
    path = Path(spec).expanduser()
    if not path.exists():
        raise PanelError("panel not found (give a panel directory or YAML file)", path=path)
    return path


@cache
def _schema() -> JsonObject:
    with SCHEMA_PATH.open(encoding="utf-8") as fh:
        schema: JsonObject = json.load(fh)
    return schema


def _plain(value: JsonValue) -> JsonValue:
    """YAML dates become ISO strings so that checksums and the schema see text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def _read_yaml(path: Path) -> JsonObject:
    # safe constructor, libyaml when present, limits on size, nesting and aliases
    data = safeyaml.load_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PanelError(
            f"a panel file must be a mapping of sections ({', '.join(SECTIONS)})", path=path
        )
    unknown = sorted(str(k) for k in data if k not in SECTIONS)
    if unknown:
        raise PanelError(
            f"unknown section {unknown[0]!r} (expected one of {', '.join(SECTIONS)})",
            path=path,
            where=unknown[0],
        )
    plain: JsonObject = _plain(data)
    return plain


def _where(section: str, error_path: list[str | int]) -> str:
    where = section
    for part in error_path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    return where


def _validate_section(section: str, value: JsonValue, path: Path) -> None:
    import jsonschema
    from jsonschema.exceptions import best_match

    schema = _schema()
    sub = {"$defs": schema["$defs"], **schema["properties"][section]}
    validator = jsonschema.Draft202012Validator(sub)
    error = best_match(validator.iter_errors(value))
    if error is None:
        return
    err_path = list(error.absolute_path)
    entry = ""
    if err_path and isinstance(err_path[0], int) and isinstance(value, list):
        item = value[err_path[0]]
        if isinstance(item, dict) and ID_KEY[section] in item:
            entry = f"entry {item[ID_KEY[section]]!r}: "
    raise PanelError(f"{entry}{error.message}", path=path, where=_where(section, err_path))


def read_raw(spec: str | Path | None, *, partial: bool = False) -> RawPanel:
    """Read and schema-validate one panel (directory or single file).

    ``partial`` allows missing sections (a user panel that extends another).
    """
    path = resolve_spec(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise PanelError("panel directory holds no .yaml files", path=path)
    else:
        files = [path]
    found: dict[str, tuple[JsonValue, Path]] = {}
    for f in files:
        for section, value in _read_yaml(f).items():
            if section in found:
                raise PanelError(
                    f"section {section!r} is also defined in {found[section][1].name}",
                    path=f,
                    where=section,
                )
            _validate_section(section, value, f)
            found[section] = (value, f)
    if not partial:
        missing = [s for s in REQUIRED_SECTIONS if s not in found]
        if missing:
            raise PanelError(f"missing required section(s): {', '.join(missing)}", path=path)
    meta, meta_file = found.get("panel", ({}, path))
    sections = {
        s: [Entry(dict(d), found[s][1], i) for i, d in enumerate(found[s][0])]
        for s in LIST_SECTIONS
        if s in found
    }
    return RawPanel(dict(meta), meta_file, sections, path)


def merge(base: RawPanel, user: RawPanel) -> RawPanel:
    """User entries replace base entries with the same id; new ones are appended."""
    sections: dict[str, list[Entry]] = {}
    for section in LIST_SECTIONS:
        key = ID_KEY[section]
        merged: dict[str, Entry] = {str(e.data[key]): e for e in base.sections.get(section, [])}
        for e in user.sections.get(section, []):
            ident = str(e.data[key])
            if ident in merged:
                log.info("panel %s: %s %s overrides the built-in entry", e.file, section, ident)
            merged[ident] = e
        sections[section] = list(merged.values())
    meta = dict(base.meta)
    if user.meta:
        meta["name"] = f"{base.meta['name']}+{user.meta['name']}"
        meta["version"] = f"{base.meta['version']}+{user.meta['name']}.{user.meta['version']}"
        meta["release_date"] = user.meta["release_date"]
        meta["description"] = user.meta["description"]
        if "evidence_levels" in user.meta:
            meta["evidence_levels"] = user.meta["evidence_levels"]
    else:
        meta["name"] = f"{base.meta['name']}+{user.source_path.stem}"
    return RawPanel(
        meta, user.meta_file if user.meta else base.meta_file, sections, user.source_path
    )
