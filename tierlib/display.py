"""Display tables for the reports: great_tables, formatted for an analyst, headers in the report's language.

:func:`display_table` turns an analysis table (a polars DataFrame) into a :class:`DisplayTable`,
which notebooks and report pages show as HTML:

- headers from the terms catalogue (``tierlib/terms/tables.yaml``, shared words in
  ``common.yaml``) or the ``headers`` given for an analyst's own columns; a column with neither
  keeps its name in English and is a KeyError naming it in Chinese, never a raw column name in
  a Chinese report;
- counts with thousands separators, shares as percentages, money in yuan (``¥1,596,300``),
  months as ``2024-12``, true/false as yes/no (是/否), missing values as ``–``;
- a coded value shown in words where the catalogue has them (``reason``: ``expiring`` -> 有效期将满);
- a tier shown by its label (``gold 金卡``; in Chinese ``金卡``), its code and rank columns hidden;
- the table in a box of its own that scrolls sideways when wider than the page (and downwards
  when long), so a wide table never runs off the page.

The numbers are formatted for reading only: the workbook and CSV files of a report
(:func:`tierlib.notebook.table`) keep the full values.

Examples
--------
>>> import polars as pl
>>> t = pl.DataFrame({"tier": ["gold"], "tier_label": ["gold 金卡"], "customers": [1596300],
...                   "share": [0.0612], "revenue": [1596300.0]})
>>> html = display_table(t, "zh")._repr_html_()
>>> all(s in html for s in ("1,596,300", "6.1%", "¥1,596,300", "金卡", "客户数", "overflow-x: auto"))
True
>>> "gold 金卡" in html or "1.5963e6" in html
False
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from tierlib.terms import check_lang, term, terms

__all__ = ["DisplayTable", "column_format", "display_table", "header", "panel_line"]

#: Suffixes of the tier columns of a table (``tier``, ``tier_a``, ``tier_base``...).
_TIER = re.compile(r"^tier_label(?P<suffix>(_\w+)?)$")
_RANK = re.compile(r"^rank(?P<suffix>(_\w+)?)$")
_PERCENT = re.compile(r"(^|_)(share|rate|held_of_members|ece|gap|probability|mean_p)($|_)")
_MONEY = re.compile(r"(^|_)(revenue|cost|net_value|saved|yuan|loss)($|_)")
#: Rows shown before the box scrolls downwards.
SCROLL_ROWS = 25


def header(column: str, lang: str = "en", headers: Mapping[str, str] | None = None) -> str:
    """The header of ``column`` in ``lang``.

    ``headers[column]`` when given (an analyst's own columns), else the term ``col.<column>`` of
    ``tierlib/terms/tables.yaml``, else the shared word ``<column>`` (``common.yaml``); a
    per-tier column (``members_gold``, ``members_gold_change``, ``share_gold``) takes its
    pattern's term with the tier's code in it. A column with none of these is headed by its
    own name in English; in another language it is a KeyError naming the column (the page
    would otherwise hold an English word).

    >>> header("member_share", "zh"), header("members_gold", "zh"), header("share_gold", "en")
    ('会员占比', 'gold会员数', 'share gold')
    >>> header("yuan", "en"), header("yuan", "zh", {"yuan": "金额（元）"})
    ('yuan', '金额（元）')
    """
    if headers and column in headers:
        return str(headers[column])
    catalogue = terms()
    for key in (f"col.{column}", column):
        if key in catalogue:
            return term(key, lang)
    for pattern, key in _PER_TIER:
        m = pattern.match(column)
        if m:
            return term(key, lang).format(tier=m.group("tier"))
    if lang == "en":
        return column
    raise KeyError(f"table column {column!r} has no {lang} header: pass headers={{{column!r}: ...}} "
                   f"to table()/show(), or add 'col.{column}: {{en: ..., zh: ...}}' to tierlib/terms/tables.yaml")


_PER_TIER = ((re.compile(r"^members_(?P<tier>\w+)_change$"), "col.members_of_tier_change"),
             (re.compile(r"^members_(?P<tier>\w+)$"), "col.members_of_tier"),
             (re.compile(r"^share_(?P<tier>\w+)$"), "col.share_of_tier"))


def column_format(name: str, dtype: Any) -> str:
    """How a column is shown: ``percent``, ``yuan``, ``integer``, ``number``, ``month``, ``bool`` or ``text``.

    Shares and rates are percentages, revenue, costs and net values yuan, by the column's name.

    >>> import polars as pl
    >>> [column_format(n, t) for n, t in [("member_share", pl.Float64), ("yearly_cost", pl.Float64),
    ...                                   ("customers", pl.Int64), ("month", pl.Date)]]
    ['percent', 'yuan', 'integer', 'month']
    """
    import polars as pl

    if dtype == pl.Boolean:
        return "bool"
    if dtype in (pl.Date, pl.Datetime):
        return "month"
    if dtype.is_numeric():
        if _PERCENT.search(name):
            return "percent"
        if _MONEY.search(name):
            return "yuan"
        return "integer" if dtype.is_integer() else "number"
    return "text"


@dataclass(frozen=True)
class DisplayTable:
    """A table as the reports show it (great_tables HTML in a scrolling box); ``df`` is the data shown."""

    df: Any
    lang: str = "en"
    title: str | None = None
    note: str | None = None
    headers: Mapping[str, str] | None = None

    def gt(self) -> Any:
        """The great_tables ``GT`` of the table (headers, formats)."""
        return _gt(self.df, self.lang, self.title, self.note, self.headers)

    def _repr_html_(self) -> str:
        long = self.df.height > SCROLL_ROWS
        style = "overflow-x: auto; max-width: 100%;" + (" max-height: 38em; overflow-y: auto;" if long else "")
        html = self.gt().as_raw_html().replace("&#165;", "¥")  # the page is UTF-8; searchable as ¥
        return f'<div class="tierlib-table" style="{style}">{html}</div>'

    def __repr__(self) -> str:  # plain-text frontends: the data, not an object address
        return repr(self.df)


def display_table(df: Any, lang: str = "en", *, title: str | None = None, note: str | None = None,
                  headers: Mapping[str, str] | None = None) -> DisplayTable:
    """``df`` (a polars DataFrame) as a report table in ``lang``; see the module docstring.

    ``headers`` maps columns to their header in ``lang`` (for columns the catalogue does not know).
    """
    import polars as pl

    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"display_table: a polars DataFrame is expected, not {type(df).__name__}")
    check_lang(lang)
    shown = _shown(df, lang)
    for column in shown.columns:
        header(column, lang, headers)  # every header known before anything is drawn
    return DisplayTable(shown, lang, title, note, dict(headers) if headers else None)


def _shown(df: Any, lang: str) -> Any:
    """The columns a reader sees: tier labels instead of tier codes and ranks, labels in ``lang``."""
    import polars as pl

    drop, labels = [], []
    for column in df.columns:
        m = _TIER.match(column)
        if m and df.schema[column] == pl.String:
            drop += [c for c in (f"tier{m.group('suffix')}",) if c in df.columns]
            labels.append(column)
        m = _RANK.match(column)
        if m and f"tier{m.group('suffix')}" in df.columns:  # a tier's rank orders the rows; it is not read
            drop.append(column)
    out = df.drop(drop)
    catalogue = terms()
    for column in out.columns:  # coded values ("expiring") as words, when every value has its term
        if out.schema[column] in (pl.String, pl.Categorical) or isinstance(out.schema[column], pl.Enum):
            values = out[column].drop_nulls().cast(pl.String).unique().to_list()
            keys = {v: f"value.{column}.{v}" for v in values}
            if values and all(k in catalogue for k in keys.values()):
                out = out.with_columns(pl.col(column).cast(pl.String).replace_strict(
                    {v: term(k, lang) for v, k in keys.items()}, default=None))
    if lang != "en" and labels:  # "gold 金卡" -> "金卡": the Chinese part of a bilingual label
        out = out.with_columns(pl.col(c).str.replace(r"^[\x00-\x7f]+\s+(\S*[^\x00-\x7f])", "$1") for c in labels)
    return out


def _gt(df: Any, lang: str, title: str | None, note: str | None, headers: Mapping[str, str] | None) -> Any:
    import polars as pl
    from great_tables import GT

    months = [c for c in df.columns if column_format(c, df.schema[c]) == "month"]
    bools = [c for c in df.columns if column_format(c, df.schema[c]) == "bool"]
    data = df.with_columns(
        *[pl.col(c).dt.strftime("%Y-%m") if _first_days(df[c]) else pl.col(c).dt.strftime("%Y-%m-%d")
          for c in months],
        *[pl.col(c).replace_strict({True: term("table.yes", lang), False: term("table.no", lang)}, return_dtype=pl.String)
          for c in bools])
    table = GT(data).cols_label(**{c: header(c, lang, headers) for c in df.columns}) if df.width else GT(data)
    for column in df.columns:
        kind = column_format(column, df.schema[column])
        if kind == "percent":
            table = table.fmt_percent(columns=column, decimals=_percent_decimals(df[column]))
        elif kind == "yuan":
            table = table.fmt_currency(columns=column, currency="CNY", decimals=_decimals(df[column], money=True))
        elif kind == "integer":
            table = table.fmt_integer(columns=column)
        elif kind == "number":
            table = table.fmt_number(columns=column, decimals=_decimals(df[column]))
    if title:
        table = table.tab_header(title=title)
    if note:
        table = table.tab_source_note(note)
    return table.sub_missing(missing_text="–").tab_options(table_font_size="13px", container_overflow_x="auto")


def _first_days(s: Any) -> bool:
    """Whether every date of ``s`` is the 1st of its month (a month column, shown ``2024-12``)."""
    days = s.drop_nulls().dt.day()
    return days.len() == 0 or bool((days == 1).all())


def _percent_decimals(s: Any) -> int:
    """One decimal (6.1%), more when a non-zero share would read 0.0% (0.04%, at most 4)."""
    import math

    small = s.drop_nulls().abs().filter(s.drop_nulls().abs() > 0).min()
    if small is None or small * 100 >= 0.05:
        return 1
    return min(4, max(2, math.ceil(-math.log10(small * 100))))


def _decimals(s: Any, *, money: bool = False) -> int:
    """Decimals that show a column's values without noise: none for thousands, more for small numbers."""
    values = s.drop_nulls()
    top = values.abs().max()
    if top is None or top >= 1000:
        return 0
    if money:  # whole yuan as such (¥0, -¥204), fen when some value has them
        return 0 if bool((values.round(0) == values).all()) else 2
    return 2 if top >= 10 else 3


def panel_line(panel: Any, lang: str = "en", *, as_of: Any = None, schemes: Any = None) -> str:
    """The one line a report opens with: customers, months and customer-months of ``panel``, in ``lang``.

    >>> import datetime as dt, polars as pl
    >>> p = pl.DataFrame({"customer_id": [1, 1, 2], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)] * 1 + [dt.date(2024, 2, 1)]})
    >>> panel_line(p, "zh", as_of=dt.date(2024, 2, 1))
    '2 位客户，2024-01 至 2024-02，共 3 个客户月；统计月份（as_of）2024-02'
    """
    line = term("say.panel", lang).format(customers=f"{panel['customer_id'].n_unique():,}",
                                          first=f"{panel['month'].min():%Y-%m}", last=f"{panel['month'].max():%Y-%m}",
                                          rows=f"{panel.height:,}")
    if as_of is not None:
        line += term("say.panel_as_of", lang).format(as_of=f"{as_of:%Y-%m}")
    if schemes:
        line += term("say.panel_schemes", lang).format(schemes=", ".join(schemes))
    return line
