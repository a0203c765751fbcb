"""Parquet output: typed Arrow schema, zstd, dictionary-encoded strings,
row groups sized for analytics, provenance in the key-value metadata.

Columns are built from Arrow buffers (``pyarrow.Array.from_buffers`` over
numpy arrays) rather than ``pyarrow.array``: every ``pyarrow.array`` call
asks pyarrow's pandas shim whether its argument is a pandas object, which
imports pandas (~0.25 s, in every cohort worker) although no pandas object
is ever involved.  A column holding a value of another type than its Arrow
type expects goes through ``pyarrow.array`` unchanged, so the result (or the
error) is pyarrow's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core.jsondoc import JsonObject
from annotator.core.rows import COLUMNS, Row, arrow_schema, arrow_type_name

if TYPE_CHECKING:
    import pyarrow as pa

ROW_GROUP_SIZE = 128 * 1024  # rows; large enough for scans, small enough for predicate pushdown
_OFFSET_LIMIT = 2**31 - 1  # int32 offsets of pa.string()


def rows_table(rows: Sequence[Row], provenance: JsonObject) -> pa.Table:
    import pyarrow as pa

    meta = {b"resmark": json.dumps(provenance, sort_keys=True).encode()}
    schema = arrow_schema(meta)
    arrays = [column_array([getattr(r, c) for r in rows], arrow_type_name(c)) for c in COLUMNS]
    return pa.Table.from_arrays(arrays, schema=schema)


def column_array(values: list[object], type_name: str) -> pa.Array:
    """``pyarrow.array(values, type)`` for the schema's types, built without pandas."""
    import pyarrow as pa

    arrow_type = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(),
                  "string": pa.string()}[type_name]
    built = _from_buffers(values, type_name, arrow_type)
    return built if built is not None else pa.array(values, type=arrow_type)


def _from_buffers(values: list[object], type_name: str, arrow_type: pa.DataType) -> pa.Array | None:
    """The array from numpy-made buffers; None when a value is not of the plain expected type."""
    import numpy as np
    import pyarrow as pa

    n = len(values)
    valid = [v is not None for v in values]
    nulls = n - sum(valid)
    validity = pa.py_buffer(np.packbits(np.array(valid, dtype=bool), bitorder="little")) if nulls else None
    present = [v for v in values if v is not None]
    if type_name == "string":
        if any(type(v) is not str for v in present):
            return None
        try:
            encoded = [v.encode("utf-8") if v is not None else b"" for v in values]  # type: ignore[attr-defined]
        except UnicodeEncodeError:
            return None  # lone surrogates: pyarrow's own error
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        if offsets[-1] > _OFFSET_LIMIT:
            return None
        data = pa.py_buffer(b"".join(encoded))
        return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(offsets.astype(np.int32)), data],
                                     null_count=nulls)
    if type_name == "bool":
        if any(type(v) is not bool for v in present):
            return None
        bits = np.packbits(np.array([v is True for v in values], dtype=bool), bitorder="little")
        return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(bits)], null_count=nulls)
    if type_name == "int64":
        if any(type(v) is not int for v in present):
            return None
        try:
            ints = np.array([v if v is not None else 0 for v in values], dtype=np.int64)
        except OverflowError:
            return None
        return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(ints)], null_count=nulls)
    if type_name == "float64":
        # ints beyond 2**53 would round here; pyarrow refuses them, so leave them to pyarrow
        if any(type(v) is not float and not (type(v) is int and abs(v) <= 2**53) for v in present):
            return None
        floats = np.array([v if v is not None else 0.0 for v in values], dtype=np.float64)
        return pa.Array.from_buffers(arrow_type, n, [validity, pa.py_buffer(floats)], null_count=nulls)
    return None


def write_rows(path: Path, rows: Sequence[Row], provenance: JsonObject) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.write_table(
            rows_table(rows, provenance),  # freed when written
            path,
            compression="zstd",
            # strings only, as documented (and as the dataset's files): a dictionary page for a
            # numeric column of a few rows is pure cost (~0.3 ms of a ~4 ms file)
            use_dictionary=[c for c in COLUMNS if arrow_type_name(c) == "string"],
            row_group_size=ROW_GROUP_SIZE,
            write_statistics=True,
        )
    finally:
        # Arrow's allocator keeps what it freed for Arrow's next use, which in an annotate run
        # never comes: the formats written next (HTML, JSON) reuse only Python's own memory
        pa.default_memory_pool().release_unused()
