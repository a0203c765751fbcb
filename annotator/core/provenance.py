"""Provenance recorded in every output: tool, panel, build, inputs, sample, command."""

from __future__ import annotations

import datetime as _dt
import hashlib
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotator.core.about import RESEARCH_USE_ONLY, __version__
from annotator.core.jsondoc import JsonObject

_CHUNK = 1 << 20


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class InputFile:
    role: str  # vcf, index, cnv, sv, fasta, samplesheet, bam
    path: str
    sha256: str

    @classmethod
    def of(cls, role: str, path: str | Path, sha256: str | None = None) -> InputFile:
        """``sha256``: the digest the reader took while reading; else the file is read for it."""
        return cls(role, str(path), sha256 or sha256_file(path))


@dataclass(frozen=True)
class Provenance:
    command: str
    panel_name: str
    panel_version: str
    panel_release_date: str
    panel_checksum: str
    build: str | None
    samples: tuple[str, ...]
    inputs: tuple[InputFile, ...]
    reference: JsonObject = field(default_factory=dict)
    tool: str = "resmark"
    tool_version: str = __version__
    python: str = platform.python_version()
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )
    research_use_only: str = RESEARCH_USE_ONLY

    def as_dict(self) -> JsonObject:
        return {
            "tool": self.tool,
            "tool_version": self.tool_version,
            "python": self.python,
            "created": self.created,
            "command": self.command,
            "panel": {
                "name": self.panel_name,
                "version": self.panel_version,
                "release_date": self.panel_release_date,
                "checksum_sha256": self.panel_checksum,
            },
            "genome_build": self.build,
            "samples": list(self.samples),
            "inputs": [{"role": i.role, "path": i.path, "sha256": i.sha256} for i in self.inputs],
            "reference": self.reference,
            "research_use_only": self.research_use_only,
        }

    def header_lines(self) -> list[str]:
        """Flat ``key=value`` lines for VCF headers and MAF comments."""
        d = self.as_dict()
        lines = [
            f"resmark_version={self.tool_version}",
            f"resmark_command={self.command}",
            f"resmark_panel={self.panel_name} {self.panel_version} ({self.panel_release_date}) "
            f"sha256:{self.panel_checksum}",
            f"resmark_genome_build={self.build}",
            f"resmark_samples={','.join(self.samples)}",
        ]
        lines += [f"resmark_input={i['role']}:{i['path']} sha256:{i['sha256']}" for i in d["inputs"]]
        lines.append(f"resmark_note={RESEARCH_USE_ONLY}")
        return lines


def command_line(argv: Sequence[str] | None) -> str:
    import shlex

    if not argv:
        return "resmark (Python API)"
    return " ".join(shlex.quote(a) for a in argv)
