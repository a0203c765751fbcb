"""FASTA / GTF configured once: option > environment > config file [build] > config file top level."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.core.settings import config_path, reference_files
from annotator.errors import UsageError


@pytest.fixture()
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("cli.fa", "env.fa", "b38.fa", "top.fa", "top.gtf", "b37.gtf"):
        p = tmp_path / name
        p.write_text(">x\nA\n")
        out[name] = p
    return out


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    cfg = tmp_path / "xdg" / "resmark" / "config.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(text)
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def test_config_path_follows_xdg_and_resmark_config(tmp_path: Path) -> None:
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/resmark/config.toml")
    assert config_path({"RESMARK_CONFIG": "/y/c.toml", "XDG_CONFIG_HOME": "/x"}) == Path("/y/c.toml")
    assert config_path({}) == Path("~/.config/resmark/config.toml").expanduser()


def test_precedence(tmp_path: Path, files: dict[str, Path]) -> None:
    env = _config(tmp_path, f'fasta = "{files["top.fa"]}"\ngtf = "{files["top.gtf"]}"\n'
                            f'[GRCh38]\nfasta = "{files["b38.fa"]}"\n'
                            f'[GRCh37]\ngtf = "{files["b37.gtf"]}"\ngtf_only = true\n')
    r = reference_files("GRCh38", env=env)
    assert (r.fasta, r.gtf, r.gtf_only) == (files["b38.fa"], files["top.gtf"], False)
    assert r.fasta_from is not None and r.fasta_from.endswith("config.toml [GRCh38]")
    r37 = reference_files("GRCh37", env=env)
    assert (r37.fasta, r37.gtf, r37.gtf_only) == (files["top.fa"], files["b37.gtf"], True)
    with_env = reference_files("GRCh38", env={**env, "RESMARK_FASTA": str(files["env.fa"])})
    assert (with_env.fasta, with_env.fasta_from) == (files["env.fa"], "RESMARK_FASTA")
    cli = reference_files("GRCh38", fasta=files["cli.fa"],
                          env={**env, "RESMARK_FASTA": str(files["env.fa"])})
    assert (cli.fasta, cli.fasta_from) == (files["cli.fa"], "--fasta")
    assert reference_files(None, env=env).fasta == files["top.fa"]  # build-independent only


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    env = _config(tmp_path, 'gtf = "ann/genes.gtf"\n')
    gtf = tmp_path / "xdg" / "resmark" / "ann" / "genes.gtf"
    gtf.parent.mkdir()
    gtf.write_text("")
    assert reference_files("GRCh38", env=env).gtf == gtf


def test_bad_settings_are_one_line_usage_errors(tmp_path: Path) -> None:
    env = _config(tmp_path, 'fasta = "/nowhere/genome.fa"\n')
    with pytest.raises(UsageError, match=r"fasta file not found: /nowhere/genome.fa \(set by .*config.toml\)"):
        reference_files("GRCh38", env=env)
    with pytest.raises(UsageError, match="not valid TOML"):
        reference_files("GRCh38", env=_config(tmp_path, "fasta = \n"))
    with pytest.raises(UsageError, match="unknown setting"):
        reference_files("GRCh38", env=_config(tmp_path, 'fastq = "x"\n'))
    with pytest.raises(UsageError, match=r"unknown table \[hg19\]"):
        reference_files("GRCh38", env=_config(tmp_path, '[hg19]\nfasta = "x"\n'))
    with pytest.raises(UsageError, match="--gtf-only needs a GTF"):
        reference_files("GRCh38", env={"RESMARK_GTF_ONLY": "1", "RESMARK_CONFIG": str(tmp_path / "n")})
    with pytest.raises(UsageError, match=r"gtf file not found: .*\(set by RESMARK_GTF\)"):
        reference_files("GRCh38", env={"RESMARK_GTF": str(tmp_path / "missing.gtf"),
                                       "RESMARK_CONFIG": str(tmp_path / "n")})
