"""Reading panels from files, and turning one-row-per-customer snapshots into panels.

:func:`read_panel` reads a panel from parquet or CSV (a file or a folder of files) with the
panel contract's dtypes (:data:`tierlib.panel.COLUMNS`): a CSV is never type-guessed, so any
valid panel written to CSV reads back as it was, and a broken or inconsistent file is named.
:func:`from_snapshot` (in :mod:`tierlib.snapshot`, re-exported here) spreads a one-row-per-customer
extract over monthly panel rows.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from tierlib.panel import COLUMNS, PanelError

__all__ = ["read_panel", "PanelFileError", "panel_files", "scan_parquet_panel", "from_snapshot", "SNAPSHOT_KEYS"]

#: CSV fields of a kind are read as this dtype (ids: see :func:`read_panel`); a column outside
#: the contract is read as text.
CSV_DTYPES = {"date": pl.Date, "money": pl.Float64, "count": pl.Int64, "bool": pl.Boolean, "text": pl.String}
_INT_ID = r"^-?(0|[1-9][0-9]{0,17})$"  # an integer written canonically that fits Int64


from tierlib.sources import PanelFileError, panel_files, scan_parquet_panel  # noqa: E402  (re-exported)


def _header(f: Path) -> list[str]:
    try:
        with open(f, newline="", encoding="utf-8-sig") as fh:
            names = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError) as e:
        hint = ("; a GBK / GB18030 warehouse export is read through a column mapping with its encoding "
                "(--map mapping.yaml, docs/MAPPING.md)") if isinstance(e, UnicodeDecodeError) else ""
        raise PanelFileError(f"{f}: cannot read the CSV header ({e}){hint}") from None
    if not names:
        raise PanelFileError(f"{f}: empty CSV file (no header)")
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            raise PanelError(name, f"the column appears {names.count(name)} times in the header of {f}; "
                             "keep one")
    return names


def _csv_casts(names: list[str], ids: pl.DataType) -> list[pl.Expr]:
    out = []
    for name in names:
        col = COLUMNS.get(name)
        kind = col.kind if col else "text"
        c = pl.col(name)
        if kind == "id":
            e = c.cast(ids, strict=False)
        elif kind == "date":
            e = pl.when(c.str.contains(r"^\d{4}-\d{2}-\d{2}$")).then(c).str.to_date("%Y-%m-%d", strict=False)
        elif kind == "bool":
            e = pl.when(c.str.to_lowercase() == "true").then(True).when(c.str.to_lowercase() == "false").then(False)
        else:
            e = c.cast(CSV_DTYPES[kind], strict=False)
        out.append(e.alias(name))
    return out


def _csv(files: list[Path], ids: str) -> pl.DataFrame:
    frames = []
    for f in files:
        names = _header(f)
        try:  # strict UTF-8: a GBK byte is an error naming the file, never a replacement character
            raw = pl.read_csv(f, schema={n: pl.String for n in names}, encoding="utf8")
        except pl.exceptions.ComputeError as e:
            if "utf-8" not in str(e).lower() and "utf8" not in str(e).lower():
                raise PanelFileError(f"{f}: not a readable CSV file ({str(e).splitlines()[0]})") from None
            raise PanelFileError(f"{f}: not UTF-8 text; read a GBK / GB18030 warehouse export through a "
                                 "column mapping with its encoding (--map mapping.yaml, docs/MAPPING.md)") from None
        except pl.exceptions.PolarsError as e:
            raise PanelFileError(f"{f}: not a readable CSV file ({str(e).splitlines()[0]})") from None
        if "customer_id" in raw.columns and raw["customer_id"].dtype == pl.String:
            raw = raw.with_columns(pl.col("customer_id").str.strip_chars())
        frames.append((f, raw))
    cols = frames[0][1].columns
    for f, raw in frames[1:]:
        if raw.columns != cols:
            raise PanelFileError(f"{f}: columns {raw.columns} differ from {cols} in {frames[0][0]}")
    raw = pl.concat([r for _, r in frames])
    if ids == "auto" and "customer_id" in cols:
        ids = "integer" if raw["customer_id"].drop_nulls().str.contains(_INT_ID).all() else "string"
    dtype = pl.Int64 if ids == "integer" else pl.String
    typed = raw.with_columns(_csv_casts(cols, dtype))
    for name in cols:
        bad = typed[name].is_null() & raw[name].is_not_null() & (raw[name] != "")
        if name in COLUMNS and COLUMNS[name].kind == "text" or not bad.any():
            continue
        rows = bad.arg_true()
        want = {"id": "an integer id", "date": "a date YYYY-MM-DD", "money": "a number", "count": "an integer",
                "bool": "true or false"}[COLUMNS[name].kind]
        who = typed["customer_id"].gather(rows.head(5)).to_list() if name != "customer_id" else None
        raise PanelError(name, f"value {raw[name][rows[0]]!r} at CSV line {rows[0] + 2} is not {want}",
                         who, int(bad.sum()))
    return typed


def read_panel(path: str | Path, *, lazy: bool = False, ids: str = "auto",
               mapping=None) -> pl.DataFrame | pl.LazyFrame:
    """Read a panel from a parquet or CSV file, or a folder of them, with the contract's dtypes.

    Parameters
    ----------
    path : a ``.parquet`` or ``.csv`` file, or a folder of them (files and folders named
        ``.*`` or ``_*`` are skipped).
    lazy : return a LazyFrame (parquet is scanned; CSV is read and checked, then made lazy).
    ids : how a CSV's ``customer_id`` is read: ``"auto"`` (integers when every id is an
        integer written without leading zeros, which is how integer ids are written, else
        text, so ``007`` stays ``"007"``), ``"string"`` or ``"integer"``.
    mapping : a warehouse export's column mapping (a YAML file's path, a dict or a
        :class:`tierlib.mapping.PanelMapping`, docs/MAPPING.md): ``path`` is then read through
        it (:func:`tierlib.mapping.read_mapped`: its encoding, column names, date formats and
        codes) instead of as a panel file; ``ids`` does not apply (ids are read as written).

    Every CSV column is read as text and converted by the contract's kind of that column
    (dates ``YYYY-MM-DD``, money Float64, counts Int64, flags ``true``/``false``, text as
    written; columns outside the contract stay text), so nothing depends on the first rows.

    Raises
    ------
    FileNotFoundError : the path does not exist.
    PanelFileError : a file that is not parquet/CSV or cannot be read (named), files that
        disagree on columns or types (both named).
    PanelError : a CSV header naming a column twice; a CSV value that is not of its
        column's kind (column, value, line and customers).
    tierlib.mapping.MappingError : with ``mapping``: a mapping breaking its schema (the path in
        the file named), or a source value it cannot read (source column, values and rows).

    Examples
    --------
    >>> import tempfile, datetime as dt
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "p.csv").write_text("customer_id,month,join_month,billed,org_revenue\\n"
    ...                              "7,2024-01-01,2024-01-01,88.5,\\n")
    >>> read_panel(d / "p.csv").schema["org_revenue"], read_panel(d / "p.csv")["customer_id"].dtype
    (Float64, Int64)
    >>> _ = (d / "q.csv").write_text("customer_id,billed,billed\\n1,2,3\\n")
    >>> read_panel(d / "q.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tierlib.panel.PanelError: column 'billed': the column appears 2 times in the header of .../q.csv; keep one
    """
    if ids not in ("auto", "string", "integer"):
        raise ValueError(f"ids must be 'auto', 'string' or 'integer', got {ids!r}")
    if mapping is not None:
        from tierlib.mapping import read_mapped

        df = read_mapped(path, mapping)
        return df.lazy() if lazy else df
    files = panel_files(path)
    if files[0].suffix.lower() == ".csv":
        df = _csv(files, ids)
        return df.lazy() if lazy else df
    lf = scan_parquet_panel(files)
    if lazy:
        return lf
    try:
        return lf.collect()
    except pl.exceptions.PolarsError as e:
        for f in files:  # name the file that fails (only on this error path)
            try:
                pl.scan_parquet(f).collect()
            except pl.exceptions.PolarsError as e1:
                raise PanelFileError(f"{f}: cannot be read ({str(e1).splitlines()[0]})") from None
        raise PanelFileError(f"{path}: cannot be read ({str(e).splitlines()[0]})") from None


from tierlib.snapshot import SNAPSHOT_KEYS, from_snapshot  # noqa: E402  (snapshots, re-exported)
