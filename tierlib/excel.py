"""Excel workbooks: one sheet per table, numbers as numbers, Chinese labels intact.

Analysts take tierlib's tables into meetings as workbooks. :func:`write_workbook` writes a
dict of polars frames as one ``.xlsx`` (a sheet per table, in the dict's order) through
polars' ``write_excel`` and xlsxwriter, published atomically like every tierlib output
(:func:`tierlib.outputs.atomic_file`). It refuses, naming the table, what Excel cannot hold
rather than cutting it: more rows than a sheet has, or a column of nested values.

>>> import tempfile
>>> import polars as pl
>>> d = Path(tempfile.mkdtemp())
>>> t = pl.DataFrame({"tier": ["gold 金卡", "silver 银卡"], "customers": [1200, 3400], "share": [0.26, 0.74]})
>>> p = write_workbook({"members 会员": t}, d / "tables.xlsx")
>>> back = pl.read_excel(p, sheet_name="members 会员")
>>> back.equals(t), back.dtypes == t.dtypes
(True, True)
>>> write_workbook({"members 会员": t}, d / "tables.xlsx")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
tierlib.outputs.OutputError: ... holds a previous tierlib output; pass --overwrite ...
>>> import shutil; shutil.rmtree(d)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from tierlib.outputs import OutputError, atomic_file

__all__ = ["EXCEL_MAX_ROWS", "sheet_name", "write_workbook"]

#: Rows in one Excel sheet (1,048,576), the header included.
EXCEL_MAX_ROWS = 1_048_576
_BAD = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str) -> str:
    """A valid Excel sheet name for ``name``: ``[]:*?/\\`` become ``_``, at most 31 characters.

    >>> sheet_name("reforms: side/by/side, net value")
    'reforms_ side_by_side, net valu'
    """
    s = _BAD.sub("_", str(name)).strip("'") or "sheet"
    return s[:31]


def write_workbook(tables: Mapping[str, pl.DataFrame], path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``tables`` (name -> frame) to the workbook ``path``, one sheet each; return ``path``.

    Sheet names are :func:`sheet_name` of the keys and must stay distinct. A table with more
    rows than a sheet holds, or with list/struct columns, is refused with an ``OutputError``
    naming it; nothing is written then. Dates stay dates, numbers numbers (floats shown with
    thousands separators), text as given (categorical columns as their text), Chinese included; NaN and infinity, which Excel cannot
    hold, are empty cells.
    """
    import xlsxwriter

    p = Path(path)
    if p.suffix.lower() != ".xlsx":
        raise OutputError(f"{p}: an Excel workbook is written as .xlsx")
    if not tables:
        raise OutputError(f"{p}: no table to write")
    names: dict[str, str] = {}
    for key, df in tables.items():
        s = sheet_name(key)
        if s in names:
            raise OutputError(f"{p}: tables {names[s]!r} and {key!r} would share the sheet name {s!r}")
        names[s] = key
        if not isinstance(df, pl.DataFrame):
            raise OutputError(f"{p}: table {key!r} is a {type(df).__name__}, not a polars DataFrame")
        if df.height + 1 > EXCEL_MAX_ROWS:
            raise OutputError(f"{p}: table {key!r} has {df.height:,} rows; an Excel sheet holds "
                              f"{EXCEL_MAX_ROWS - 1:,} below its header. Write parquet or CSV instead")
        nested = [c for c, t in df.schema.items() if isinstance(t, (pl.List, pl.Array, pl.Struct, pl.Object))]
        if nested:
            raise OutputError(f"{p}: table {key!r} has nested columns {nested}, which Excel cannot hold")
    with atomic_file(p, overwrite=overwrite) as tmp:
        with xlsxwriter.Workbook(str(tmp)) as wb:
            for s, key in names.items():
                # Excel has no NaN or infinity (xlsxwriter refuses them): such a cell is left empty
                df = tables[key].with_columns(
                    pl.when(pl.col(pl.Float32, pl.Float64).is_finite()).then(pl.col(pl.Float32, pl.Float64)))
                df.write_excel(wb, worksheet=s, autofit=True, float_precision=4,
                               dtype_formats={pl.Date: "yyyy-mm-dd", pl.Datetime: "yyyy-mm-dd hh:mm:ss"})
    return p
