"""Column mappings: a warehouse export -> a panel of RULES.md §1, written once per warehouse.

A carrier's export has its own column names (用户ID, 账期, 出账金额 ...), its own encoding (GBK,
GB18030, UTF-8 with a BOM), its own date formats (``202503``, ``20110915``, ``2011-09-15
10:31:00``) and its own codes (全球通, 是/否). A mapping file says, once, how each panel column
is read from it::

    # mapping.yaml
    encoding: gbk
    columns:
      customer_id: 用户ID
      month: {from: 账期, format: "%Y%m"}
      join_month: {from: 入网时间, format: "%Y%m%d", to_month: true}
      billed: 出账金额
      paid: 实收金额
      brand: {from: 品牌, values: {全球通: gotone, 动感地带: mzone, 神州行: easyown}}
      suspensions: 欠费停机次数
      churned: {from: 是否离网, true: ["1", "是", "Y"], false: ["0", "否", "N"]}

The schema is written in ``tierlib/mapping_schema.yaml`` (JSON Schema, checked with jsonschema;
:func:`mapping_schema`) and explained in ``docs/MAPPING.md``. Every value is parsed exactly as the mapping says: a date
by the format it names (never guessed), a number as a number, a code by the table it gives. A
value that does not parse is a :class:`MappingError` naming the source column, the values and
the rows; nothing is dropped or coerced. The result still goes through :func:`tierlib.validate`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from tierlib.months import as_month
from tierlib.panel import COLUMNS
from tierlib.schema import load_schema, plain, schema_error
from tierlib.sources import panel_files, scan_parquet_panel

__all__ = ["ColumnSpec", "PanelMapping", "MappingError", "load_mapping", "apply_mapping", "read_raw", "read_mapped",
           "ENCODINGS", "DEFAULT_TRUE", "DEFAULT_FALSE", "mapping_schema"]

#: encodings a warehouse export comes in (Python codec names; ``utf-8-sig`` drops a BOM)
ENCODINGS = ("utf-8", "utf-8-sig", "gbk", "gb18030")
#: a boolean column's codes when the mapping gives none (compared after stripping blanks)
DEFAULT_TRUE = ("1", "true", "True", "TRUE", "Y", "y", "yes", "Yes", "是")
DEFAULT_FALSE = ("0", "false", "False", "FALSE", "N", "n", "no", "No", "否")
_ROWS_SHOWN = 5


class MappingError(ValueError):
    """A mapping file that breaks its schema, or a source value the mapping cannot read."""


@dataclass(frozen=True)
class ColumnSpec:
    """How one panel column is read: its source column and how to parse the source's values."""

    target: str
    source: str
    format: str | None = None
    to_month: bool = False
    values: Mapping[str, str] | None = None
    true: tuple[str, ...] = DEFAULT_TRUE
    false: tuple[str, ...] = DEFAULT_FALSE
    factor: float = 1.0

    @property
    def kind(self) -> str:
        return COLUMNS[self.target].kind


@dataclass(frozen=True)
class PanelMapping:
    """A whole mapping: the encoding of CSV sources, the columns, constants and kept extras."""

    columns: tuple[ColumnSpec, ...]
    encoding: str = "utf-8"
    separator: str = ","
    constants: Mapping[str, Any] = field(default_factory=dict)
    keep: tuple[str, ...] = ()
    origin: str = "mapping"


def _fail(where: str, text: str) -> MappingError:
    return MappingError(f"{where}: {text}")


def mapping_schema() -> dict:
    """The JSON Schema every mapping file is validated against (``tierlib/mapping_schema.yaml``)."""
    return load_schema("mapping_schema.yaml")


_plain = plain  # a YAML document as JSON data (tierlib.schema)


def _schema_errors(doc: Any, origin: str) -> None:
    """Raise one MappingError naming the path in the file of the first schema violation."""
    text = schema_error(doc, mapping_schema(), origin,
                        unknown=lambda path: "panel column(s)" if path in ("columns", "constants") else "key(s)",
                        required_hint=": give the source column's name, or a mapping with 'from'")
    if text:
        raise MappingError(text)


def _spec(target: str, node: str | Mapping, where: str) -> ColumnSpec:
    if isinstance(node, str):
        return ColumnSpec(target, node)
    spec: dict[str, Any] = {"source": node["from"], "format": node.get("format"),
                            "to_month": node.get("to_month", False), "factor": float(node.get("factor", 1.0))}
    if "values" in node:
        spec["values"] = dict(node["values"])
    for key in ("true", "false"):
        if key in node:
            spec[key] = tuple(str(c) for c in node[key])
    if set(spec.get("true", ())) & set(spec.get("false", ())):
        raise _fail(f"{where}.{target}", "a code is listed as both true and false")
    return ColumnSpec(target, **spec)


def load_mapping(mapping: PanelMapping | Mapping | str | Path) -> PanelMapping:
    """Read and check a mapping (a YAML file, a dict, or a :class:`PanelMapping`).

    The document is validated against :func:`mapping_schema`; a violation is a
    :class:`MappingError` naming its path in the file.

    >>> m = load_mapping({"columns": {"customer_id": "用户ID", "month": {"from": "账期", "format": "%Y%m"},
    ...                               "join_month": "入网月", "billed": "出账金额"}})
    >>> [(c.target, c.source) for c in m.columns][:2]
    [('customer_id', '用户ID'), ('month', '账期')]
    >>> load_mapping({"columns": {"bill": "出账金额"}})
    Traceback (most recent call last):
    ...
    tierlib.mapping.MappingError: mapping.columns: unknown panel column(s) ['bill'] (allowed: ...)
    """
    if isinstance(mapping, PanelMapping):
        return mapping
    origin = "mapping"
    if isinstance(mapping, (str, Path)):
        origin = str(mapping)
        try:
            doc = yaml.safe_load(Path(mapping).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"mapping file not found: {mapping}") from None
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            raise MappingError(f"{mapping}: not a valid UTF-8 YAML file ({_one_line(e)})") from None
    else:
        doc = mapping
    if not isinstance(doc, Mapping):
        raise MappingError(f"{origin}: a mapping file is a YAML mapping with a 'columns' section")
    doc = _plain(doc)
    if isinstance(doc.get("encoding"), str):
        doc["encoding"] = doc["encoding"].lower().replace("utf8", "utf-8").replace("_", "-")
    _schema_errors(doc, origin)
    specs = tuple(_spec(k, v, f"{origin}.columns") for k, v in doc["columns"].items())
    sources = [s.source for s in specs]
    twice = sorted({s for s in sources if sources.count(s) > 1})
    if twice:
        raise _fail(f"{origin}.columns", f"source column(s) {twice} mapped to more than one panel column")
    encoding = doc.get("encoding", "utf-8")
    constants = dict(doc.get("constants") or {})
    for k, v in constants.items():
        if k in {s.target for s in specs}:
            raise _fail(f"{origin}.constants", f"'{k}' is also mapped from a column")
        if COLUMNS[k].kind == "date":
            constants[k] = as_month(v, name=f"{origin}.constants.{k}")
    sep = doc.get("separator", ",")
    return PanelMapping(specs, encoding, sep, constants, tuple(doc.get("keep") or ()), origin)


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:200]


def _check(df: pl.DataFrame, src: str, what: str, bad: pl.Expr, origin: str) -> None:
    """Raise a MappingError naming the source column, the offending values and rows."""
    rows = df.with_row_index("_row").filter(bad)
    if rows.height:
        values = rows[src].cast(pl.String).unique(maintain_order=True).head(_ROWS_SHOWN).to_list()
        where = ", ".join(str(r + 1) for r in rows["_row"].head(_ROWS_SHOWN).to_list())
        more = ", ..." if rows.height > _ROWS_SHOWN else ""
        raise MappingError(f"source column '{src}' ({origin}): {rows.height} value(s) {what}: "
                           f"{values}; data row(s) {where}{more} (1-based, header not counted)")


def _text(c: pl.Expr) -> pl.Expr:
    """Source values as stripped text, blanks as null (CSV sources arrive as text)."""
    t = c.cast(pl.String).str.strip_chars()
    return pl.when(t != "").then(t)


def _column(df: pl.DataFrame, spec: ColumnSpec, origin: str) -> pl.Series:
    src = spec.source
    raw = df[src]
    c, t = pl.col(src), _text(pl.col(src))
    given = t.is_not_null()
    if spec.kind == "date":
        if raw.dtype in (pl.Date, pl.Datetime) or isinstance(raw.dtype, pl.Datetime):
            out = c.cast(pl.Date)
        elif spec.format is None:
            raise MappingError(f"{origin}: column '{spec.target}' is read from text '{src}': give its "
                               f"date format, e.g. {{from: {src}, format: \"%Y%m\"}} (dates are never guessed)")
        else:
            timed = any(x in spec.format for x in ("%H", "%M", "%S", "%T", "%R"))
            # a month-only format (%Y%m, %Y/%-m) is read with the 1st as its day: the parser
            # needs a day to read an unpadded month
            dated = timed or any(x in spec.format for x in ("%d", "%-d", "%e", "%j"))
            fmt, text = (spec.format, t) if dated else (spec.format + "|%d", t + "|01")
            parsed = text.str.strptime(pl.Datetime if timed else pl.Date, fmt, strict=False)
            # exactly as named: a value must read back the same in the format (03/04/2024 is
            # not 3/4/2024 under %m/%d, 24 is not a year under %Y); nothing is guessed
            _check(df, src, f"not a date in the format '{spec.format}' (zero-padded fields; "
                   "%-m / %-d for unpadded ones)", given & parsed.dt.strftime(fmt).ne_missing(text), origin)
            out = parsed.cast(pl.Date)
        if spec.to_month:
            out = out.dt.truncate("1mo")
    elif spec.kind in ("money", "count"):
        dtype = pl.Float64 if spec.kind == "money" else pl.Int64
        out = t.cast(dtype, strict=False) if not raw.dtype.is_numeric() else c.cast(dtype, strict=False)
        _check(df, src, f"not {'a number' if spec.kind == 'money' else 'a whole number'}",
               c.is_not_null() & given & out.is_null(), origin)
        if spec.factor != 1.0:
            inverse = 1 / spec.factor  # fen -> yuan as a division by 100: 8851 / 100 is 88.51 exactly rounded
            out = out / round(inverse) if abs(inverse - round(inverse)) < 1e-9 else out * spec.factor
    elif spec.kind == "bool":
        if raw.dtype == pl.Boolean:
            out = c
        else:
            out = pl.when(t.is_in(list(spec.true))).then(True).when(t.is_in(list(spec.false))).then(False)
            _check(df, src, f"not among the true codes {list(spec.true)} or false codes {list(spec.false)}",
                   given & out.is_null(), origin)
    elif spec.kind == "text" and spec.values is not None:
        out = t.replace_strict(dict(spec.values), default=None, return_dtype=pl.String)
        _check(df, src, f"not in the mapping's values table ({', '.join(spec.values)})",
               given & out.is_null(), origin)
    elif spec.kind == "id":
        out = c if raw.dtype.is_integer() else t
    else:
        out = t
    return df.select(out.alias(spec.target)).to_series()


def apply_mapping(raw: pl.DataFrame, mapping: PanelMapping | Mapping | str | Path) -> pl.DataFrame:
    """The panel columns of a raw source frame, read as ``mapping`` says (not yet validated).

    >>> raw = pl.DataFrame({"用户ID": ["1", "1"], "账期": ["202501", "202502"],
    ...                     "入网时间": ["20110915", "20110915"], "出账金额": ["88.5", "90"],
    ...                     "是否离网": ["否", "是"]})
    >>> m = {"columns": {"customer_id": "用户ID", "month": {"from": "账期", "format": "%Y%m"},
    ...      "join_month": {"from": "入网时间", "format": "%Y%m%d", "to_month": True},
    ...      "billed": "出账金额", "churned": "是否离网"}}
    >>> apply_mapping(raw, m).rows()[1]
    ('1', datetime.date(2025, 2, 1), datetime.date(2011, 9, 1), 90.0, True)
    """
    m = load_mapping(mapping)
    missing = [s.source for s in m.columns if s.source not in raw.columns]
    missing += [k for k in m.keep if k not in raw.columns]
    if missing:
        have = ", ".join(raw.columns[:30])
        raise MappingError(f"{m.origin}: source column(s) {missing} not in the data (its columns: {have})")
    mapped = {s.target for s in m.columns} | set(m.constants)
    absent = [k for k, col in COLUMNS.items() if col.required and k not in mapped]
    if absent:
        raise MappingError(f"{m.origin}: required panel column(s) {absent} are not mapped "
                           f"(add e.g. '{absent[0]}: <source column>' under columns)")
    cols = [_column(raw, s, m.origin) for s in m.columns]
    out = pl.DataFrame(cols)
    if m.constants:
        out = out.with_columns(pl.lit(v).alias(k) for k, v in m.constants.items())
    if m.keep:
        out = out.with_columns(raw.select(m.keep))
    return out


def _csv(path: Path, m: PanelMapping) -> pl.DataFrame:
    data = path.read_bytes()
    try:
        text = data.decode(m.encoding)
    except UnicodeDecodeError as e:
        raise MappingError(f"{path}: not {m.encoding} text at byte {e.start} (set 'encoding' in "
                           f"{m.origin}: one of {', '.join(ENCODINGS)})") from None
    if m.encoding == "utf-8" and text.startswith("\ufeff"):
        text = text[1:]  # a BOM is an encoding marker, never part of the first column's name
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0]), delimiter=m.separator), [])
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise MappingError(f"{path}: column header(s) {twice} appear more than once")
    try:
        return pl.read_csv(text.encode("utf-8"), infer_schema=False, separator=m.separator)
    except pl.exceptions.PolarsError as e:
        raise MappingError(f"{path}: not a readable CSV file ({_one_line(e)})") from None


def read_raw(src: str | Path, mapping: PanelMapping | Mapping | str | Path) -> pl.DataFrame:
    """The source rows as the warehouse wrote them: a CSV (text, in the mapping's encoding) or
    parquet file, or a folder of them (:func:`tierlib.sources.panel_files`: name order, ``.*`` and
    ``_*`` skipped, one format per folder), stacked.

    CSV values stay text, so that every value is parsed by the mapping and nothing is guessed;
    parquet files are read as :func:`tierlib.sources.scan_parquet_panel` reads a panel's files.
    """
    m = load_mapping(mapping)
    try:
        files = panel_files(src)
    except FileNotFoundError:
        raise MappingError(f"{src} does not exist") from None
    if files[0].suffix.lower() == ".parquet":
        return scan_parquet_panel(files).collect()
    frames = [_csv(f, m) for f in files]
    first = frames[0]
    for f, fr in zip(files[1:], frames[1:]):
        if fr.columns != first.columns:
            raise MappingError(f"{f}: its columns differ from {files[0].name}'s "
                               f"({sorted(set(fr.columns) ^ set(first.columns))})")
    return pl.concat(frames, how="vertical")


def read_mapped(src: str | Path, mapping: PanelMapping | Mapping | str | Path) -> pl.DataFrame:
    """Read a warehouse export through a mapping: :func:`read_raw` then :func:`apply_mapping`."""
    m = load_mapping(mapping)
    return apply_mapping(read_raw(src, m), m)
