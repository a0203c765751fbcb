"""The cohort dataset: one hive-partitioned Parquet dataset for many samples.

Layout::

    DATASET/sample=<name>/part-0.parquet

* one file per sample, holding every row of that sample; ``<name>`` is the
  sample name percent-encoded (``urllib.parse.quote``), the same text the
  ``sample`` column holds after decoding, so DuckDB, Polars and pyarrow
  agree whether they read the column from the file or from the path;
* the schema is always ``annotator.core.rows.arrow_schema()`` (a sample without
  rows still gets an empty file, so a re-run that finds nothing clears the
  rows of an earlier run);
* re-running a sample replaces its file atomically (``os.replace``), so a
  dataset never holds two copies of a sample's rows, and runs writing other
  samples can add to the same dataset at the same time;
* nothing but partition directories sits in DATASET, so ``pl.scan_parquet``
  on the directory and ``read_parquet('DATASET/*/*.parquet')`` both work;
* Parquet settings are those of ``annotator.io.parquetout``: zstd,
  dictionary-encoded string columns, ``ROW_GROUP_SIZE`` rows per row group,
  statistics, and the run's provenance under the ``resmark`` key of the
  file's key-value metadata.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from annotator.core.jsondoc import JsonObject
from annotator.core.rows import COLUMNS, Row, arrow_type_name
from annotator.errors import OutputError
from annotator.io.parquetout import ROW_GROUP_SIZE, rows_table

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

PARTITION_KEY = "sample"
PART_FILE = "part-0.parquet"
STRING_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if arrow_type_name(c) == "string")


@dataclass(frozen=True)
class SampleRows:
    """What one sample contributes to the dataset."""

    sample: str
    rows: Sequence[Row]
    provenance: JsonObject


def partition_dir(root: str | Path, sample: str) -> Path:
    return Path(root) / f"{PARTITION_KEY}={quote(sample, safe='')}"


def writer_options() -> JsonObject:
    """Keyword arguments of ``pyarrow.parquet.write_table`` for dataset files."""
    return {
        "compression": "zstd",
        "use_dictionary": list(STRING_COLUMNS),
        "row_group_size": ROW_GROUP_SIZE,
        "write_statistics": True,
    }


def check_root(root: str | Path) -> Path:
    """The dataset directory, created if needed; refuses a directory of something else."""
    path = Path(root)
    if path.exists() and not path.is_dir():
        raise OutputError("dataset path exists and is not a directory", path=path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create dataset directory ({e.strerror})", path=path) from e
    strays = [
        p.name for p in path.iterdir()
        if not p.name.startswith((f"{PARTITION_KEY}=", "."))
    ]
    if strays:
        raise OutputError(
            f"is not a resmark dataset (holds {', '.join(sorted(strays)[:3])}); "
            "give --dataset an empty or dataset directory",
            path=path,
        )
    _check_schema(path)
    return path


def _check_schema(root: Path) -> None:
    """An existing dataset must have today's schema, or appending would mix two."""
    import pyarrow.parquet as pq

    from annotator.core.rows import arrow_schema

    for part in root.iterdir():
        existing = part / PART_FILE
        if existing.is_file():
            try:
                schema = pq.read_schema(existing)
            except Exception as e:  # noqa: BLE001 - pyarrow raises several types
                raise OutputError(f"cannot read existing dataset file ({e})", path=existing) from e
            if not schema.remove_metadata().equals(arrow_schema()):
                raise OutputError(
                    "dataset was written with a different column schema (another resmark "
                    "version?); write to a new --dataset directory",
                    path=root,
                )
            return


def write_sample(root: str | Path, item: SampleRows) -> Path:
    """Write (or replace) one sample's partition atomically; return its file."""
    import pyarrow.parquet as pq

    part = partition_dir(root, item.sample)
    part.mkdir(parents=True, exist_ok=True)
    table = rows_table(item.rows, item.provenance)
    fd, tmp = tempfile.mkstemp(prefix=".part-", suffix=".tmp", dir=part)
    os.close(fd)
    target = part / PART_FILE
    try:
        pq.write_table(table, tmp, **writer_options())
        os.replace(tmp, target)
    except OSError as e:
        raise OutputError(f"cannot write dataset partition ({e.strerror})", path=part) from e
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _remove_strays(part)
    return target


def _remove_strays(part: Path) -> None:
    for other in part.iterdir():
        # files of other names come from older layouts and would duplicate rows
        if other.name != PART_FILE and other.suffix == ".parquet":
            other.unlink()


class DatasetStage:
    """Partition files written while a run works, moved into the dataset at the end.

    Workers write each finished sample into the stage (in parallel); ``commit``
    moves the files into place only once the whole run has succeeded, so a
    failed run leaves the dataset as it was.  The stage sits beside the dataset
    (not inside it, where readers scanning the directory would see it).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = check_root(root)
        try:
            tmp = tempfile.mkdtemp(prefix=f".{self.root.name}.staging-", dir=self.root.parent)
        except OSError:
            tmp = tempfile.mkdtemp(prefix=".staging-", dir=self.root)
        self.path = Path(tmp)

    def commit(self, samples: Iterable[str]) -> list[Path]:
        """Move the staged partitions of ``samples`` into the dataset; return their files."""
        written: list[Path] = []
        for sample in samples:
            src = partition_dir(self.path, sample) / PART_FILE
            if not src.is_file():
                continue
            part = partition_dir(self.root, sample)
            try:
                part.mkdir(parents=True, exist_ok=True)
                os.replace(src, part / PART_FILE)
            except OSError as e:
                raise OutputError(f"cannot write dataset partition ({e.strerror})", path=part) from e
            _remove_strays(part)
            written.append(part / PART_FILE)
        log.info("dataset %s: %d sample partition(s) written", self.root, len(written))
        return written

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def write_samples(root: str | Path, items: Iterable[SampleRows]) -> list[Path]:
    """Write every sample's partition; samples not named keep their partitions."""
    path = check_root(root)
    written = [write_sample(path, item) for item in items]
    log.info("dataset %s: %d sample partition(s) written", path, len(written))
    return written


def samples_in(root: str | Path) -> list[str]:
    """Sample names with a partition in the dataset, sorted."""
    path = Path(root)
    if not path.is_dir():
        return []
    prefix = f"{PARTITION_KEY}="
    return sorted(
        unquote(p.name[len(prefix):])
        for p in path.iterdir()
        if p.name.startswith(prefix) and (p / PART_FILE).is_file()
    )


def read_dataset(root: str | Path, columns: Sequence[str] | None = None) -> pa.Table:
    """The whole dataset as one ``pyarrow.Table`` with the stable schema."""
    import pyarrow.dataset as ds

    from annotator.core.rows import arrow_schema

    files = [str(partition_dir(root, s) / PART_FILE) for s in samples_in(root)]
    dataset = ds.dataset(files, schema=arrow_schema(), format="parquet")
    return dataset.to_table(columns=list(columns) if columns is not None else None)
