"""Parquet columns built from buffers equal pyarrow's own conversion, and need no pandas.

The truth is ``pyarrow.array(values, type=...)`` (pyarrow's converter); the
fast path must give equal arrays, or defer to it (same result, same error).
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from annotator.io.parquetout import column_array

TYPES = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
CASES = [
    ("string", []),
    ("string", ["a", None, "é€𝄞", "", "tab\tand\nnewline"]),
    ("string", [None, None, None]),
    ("string", ["x" * 1000] * 9),
    ("string", ["ok", 3]),  # not a string: pyarrow's error
    ("string", ["\udcff"]),  # lone surrogate: pyarrow's error
    ("int64", [1, None, -5, 2**62, 0]),
    ("int64", [None]),
    ("int64", [2**63]),  # out of range: pyarrow's error
    ("int64", [True]),  # a bool is not an integer to pyarrow
    ("int64", [1.5]),
    ("float64", [1.5, None, math.nan, math.inf, -math.inf, 3, -0.0, 0.1 + 0.2]),
    ("float64", [2**60]),
    ("float64", [None, None]),
    ("float64", [True]),
    ("bool", [True, False, None, True, True, False, False, True, None]),
    ("bool", [1]),
]


def _outcome(fn):  # noqa: ANN001, ANN202 - a value or the error's type
    try:
        return fn()
    except (pa.ArrowException, OverflowError, TypeError, ValueError, UnicodeError) as e:
        return type(e)


@pytest.mark.parametrize(("type_name", "values"), CASES)
def test_column_array_equals_pyarrow_array(type_name: str, values: list[object]) -> None:
    ours = _outcome(lambda: column_array(values, type_name))
    theirs = _outcome(lambda: pa.array(values, type=TYPES[type_name]))
    if isinstance(theirs, type):
        assert ours is theirs
        return
    assert isinstance(ours, pa.Array)
    assert ours.type == theirs.type and ours.null_count == theirs.null_count
    assert ours.equals(theirs) or repr(ours.to_pylist()) == repr(theirs.to_pylist())  # NaN != NaN
    assert repr(ours.to_pylist()) == repr(theirs.to_pylist())
    ours.validate(full=True)


def test_parquet_writers_do_not_import_pandas(tmp_path: Path) -> None:
    """A sample's Parquet file and a dataset partition are written without importing pandas."""
    repo = Path(__file__).resolve().parents[1]
    code = (
        "import sys\n"
        "from annotator.api import AnnotateConfig, annotate\n"
        f"annotate(AnnotateConfig(inputs=[{str(repo / 'test_vcfs' / 'demo' / 'demo_tumour.grch38.vcf.gz')!r}],"
        f" outdir={str(tmp_path / 'o')!r}, formats=('parquet',), dataset={str(tmp_path / 'ds')!r}))\n"
        "print('pandas' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, check=True)
    assert out.stdout.strip() == "False"
    assert list((tmp_path / "ds").glob("sample=*/part-0.parquet"))
