"""Where the user's genome FASTA and GTF are, configured once for ``annotate`` and ``track``.

Precedence, highest first (docs/reference.md):

1. the command-line option (``--fasta``, ``--gtf``, ``--gtf-only``) or the API field;
2. the environment: ``RESMARK_FASTA``, ``RESMARK_GTF``, ``RESMARK_GTF_ONLY`` (1/true/yes);
3. the config file's table for the run's build (``[GRCh38]`` / ``[GRCh37]``);
4. the config file's top-level keys ``fasta``, ``gtf``, ``gtf_only``.

The config file is ``$RESMARK_CONFIG`` when set, else
``$XDG_CONFIG_HOME/resmark/config.toml`` (``~/.config/resmark/config.toml``
when ``XDG_CONFIG_HOME`` is unset); relative paths in it are relative to the
file, ``~`` is expanded.  Example::

    fasta = "/data/ref/GRCh38.primary_assembly.genome.fa.gz"
    gtf = "/data/ref/gencode.v44.annotation.gtf.gz"

    [GRCh37]
    fasta = "/data/ref/hs37d5.fa.gz"
    gtf = "/data/ref/gencode.v44lift37.annotation.gtf.gz"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from annotator.core.jsondoc import JsonObject
from annotator.errors import UsageError

ENV_FASTA = "RESMARK_FASTA"
ENV_GTF = "RESMARK_GTF"
ENV_GTF_ONLY = "RESMARK_GTF_ONLY"
ENV_CONFIG = "RESMARK_CONFIG"
BUILD_TABLES = ("GRCh37", "GRCh38")
_KEYS = frozenset({"fasta", "gtf", "gtf_only"})


@dataclass(frozen=True)
class ReferenceFiles:
    """The FASTA and GTF a run uses, and where each setting came from."""

    fasta: Path | None = None
    gtf: Path | None = None
    gtf_only: bool = False
    fasta_from: str | None = None  # "--fasta", "RESMARK_FASTA", "<config file> [GRCh38]" ...
    gtf_from: str | None = None

    def describe(self) -> dict[str, str]:
        out = {}
        if self.fasta_from:
            out["fasta_from"] = self.fasta_from
        if self.gtf_from:
            out["gtf_from"] = self.gtf_from
        return out


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG]).expanduser()
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "resmark" / "config.toml"


def _load_toml(path: Path) -> JsonObject:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with path.open("rb") as fh:
            doc: JsonObject = tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"cannot read the resmark config file: {exc}", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"not valid TOML: {exc}", path=path) from exc
    return doc


def read_config(path: Path) -> JsonObject:
    """The config file's settings (empty when the file does not exist); unknown keys are errors."""
    if not path.is_file():
        return {}
    doc = _load_toml(path)
    for key, value in doc.items():
        if isinstance(value, dict):
            if key not in BUILD_TABLES:
                raise UsageError(f"unknown table [{key}]; use [GRCh37] or [GRCh38]", path=path)
            bad = set(value) - _KEYS
        else:
            bad = {key} - _KEYS
        if bad:
            raise UsageError(f"unknown setting(s) {', '.join(sorted(bad))}; known: "
                             f"{', '.join(sorted(_KEYS))}", path=path)
    return doc


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def reference_files(
    build: str | None,
    *,
    fasta: str | Path | None = None,
    gtf: str | Path | None = None,
    gtf_only: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> ReferenceFiles:
    """Resolve the FASTA/GTF for ``build`` (None: only settings that apply to every build)."""
    env = os.environ if env is None else env
    path = config_path(env)
    doc = read_config(path)
    table = doc.get(build, {}) if build else {}
    values: dict[str, tuple[object, str]] = {}  # str()'d (paths) or bool()'d (gtf_only)
    for key, option, env_key in (("fasta", fasta, ENV_FASTA), ("gtf", gtf, ENV_GTF),
                                 ("gtf_only", gtf_only, ENV_GTF_ONLY)):
        flag = "--" + key.replace("_", "-")
        if option is not None and option is not False:
            values[key] = (option, flag)
        elif env.get(env_key):
            values[key] = (_truthy(env[env_key]) if key == "gtf_only" else env[env_key], env_key)
        elif key in table:
            values[key] = (table[key], f"{path} [{build}]")
        elif key in doc and not isinstance(doc[key], dict):
            values[key] = (doc[key], str(path))

    def file(key: str) -> tuple[Path | None, str | None]:
        if key not in values:
            return None, None
        value, origin = values[key]
        p = Path(str(value)).expanduser()
        if origin.startswith(str(path)) and not p.is_absolute():
            p = path.parent / p
        if not p.exists():
            raise UsageError(f"{key} file not found: {p} (set by {origin})")
        return p, origin

    fa, fa_from = file("fasta")
    gt, gt_from = file("gtf")
    only = bool(values.get("gtf_only", (False, ""))[0])
    if only and gt is None:
        raise UsageError("--gtf-only needs a GTF (--gtf, RESMARK_GTF or the config file)")
    return ReferenceFiles(fa, gt, only, fa_from, gt_from)
