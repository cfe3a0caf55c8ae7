"""Notebook side of the reports: the set-up call every report notebook makes in its first cell.

Kept apart from the report runner (:mod:`tierlib.report`) so that a notebook, run in
JupyterLab or by ``tierlib report``, imports only altair and polars here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MARKDOWN_LANG_ENV", "TABLES_ENV", "check_markdown_lang", "setup_notebook", "show", "table"]

#: Set by ``tierlib report`` for each notebook's kernel: the folder where :func:`table` leaves
#: the notebook's key tables, which the run publishes as one workbook and CSV files.
TABLES_ENV = "TIERLIB_REPORT_TABLES"

#: Set by the papermill engine ``tierlib`` (which ``tierlib report`` runs) for the kernel: the
#: language it put the notebook's Markdown cells in.
MARKDOWN_LANG_ENV = "TIERLIB_MARKDOWN_LANG"


def check_markdown_lang(lang: str) -> str | None:
    """A warning when the notebook's headings and paragraphs are not in ``lang``; ``None`` when they are.

    The Markdown cells are written in English and put in another language by the papermill
    engine ``tierlib``; under plain ``papermill -p lang zh`` (or in JupyterLab) they stay
    English while tables and charts follow ``lang``. A report notebook prints this after its
    parameters cell, so such a page says so instead of mixing languages silently.

    >>> os.environ.pop(MARKDOWN_LANG_ENV, None) and None
    >>> check_markdown_lang("en") is None
    True
    >>> print(check_markdown_lang("zh"))
    警告：本页的标题和说明文字仍是英文（lang = zh 只作用于表格和图表）：请用 papermill --engine tierlib -p lang zh 运行，或用 tierlib report --lang zh。
    """
    from tierlib.terms import check_lang, term

    check_lang(lang)
    if lang == "en" or os.environ.get(MARKDOWN_LANG_ENV) == lang:
        return None
    return term("say.markdown_not_translated", lang).format(lang=lang)


def table(df, name: str, lang: str = "en", *, note: str | None = None, headers: dict | None = None):
    """One of the notebook's key tables: shown formatted, in ``lang``, and kept for the workbook.

    Returns a :class:`tierlib.display.DisplayTable` (a cell's last line ``table(df, "...", lang)``
    shows it): headers in the report's language, thousands separators, percentages, yuan, tier
    labels, in a box that scrolls when wider than the page; ``note`` is printed under it;
    ``headers`` gives the header of a column the terms catalogue does not know. Under
    ``tierlib report`` (environment variable :data:`TABLES_ENV` set) ``df`` itself, with its
    full values and column names, is also written to that folder, numbered in call order, for
    the run to publish as a sheet ``name`` of the Excel workbook and a CSV file.

    Examples
    --------
    >>> import polars as pl, tempfile
    >>> t = pl.DataFrame({"tier": ["gold"], "tier_label": ["gold 金卡"], "customers": [3]})
    >>> table(t, "members 会员", "zh").df.columns
    ['tier_label', 'customers']
    >>> d = tempfile.mkdtemp()
    >>> os.environ[TABLES_ENV] = d
    >>> _ = table(t, "members 会员"); _ = table(t.head(0), "empty")
    >>> sorted(p.name for p in Path(d).iterdir())
    ['001.parquet', '002.parquet']
    >>> pl.read_parquet_metadata(Path(d) / "001.parquet")["tierlib_table"]
    'members 会员'
    >>> del os.environ[TABLES_ENV]
    """
    import polars as pl

    from tierlib.display import display_table

    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"table {name!r}: a polars DataFrame is expected, not {type(df).__name__}")
    shown = display_table(df, lang, note=note, headers=headers)  # an unknown header fails before anything is written
    folder = os.environ.get(TABLES_ENV)
    if folder:
        d = Path(folder)
        n = sum(1 for p in d.glob("[0-9][0-9][0-9].parquet")) + 1
        df.write_parquet(d / f"{n:03d}.parquet", metadata={"tierlib_table": str(name)})
    return shown


def show(df, lang: str = "en", *, note: str | None = None, headers: dict | None = None):
    """``df`` shown like :func:`table` (formatted, in ``lang``) but not kept for the workbook."""
    from tierlib.display import display_table

    return display_table(df, lang, note=note, headers=headers)


def setup_notebook() -> None:
    """Set up a notebook's display for offline reports; call it in the notebook's first cell.

    Altair charts render with the renderer ``tierlib`` (:func:`tierlib.rendering.mimebundle`):
    the Vega-Lite spec, which JupyterLab draws interactively with its own Vega (tooltips,
    legend selections, sliders; nothing fetched) and a report page with the Vega bundle it
    embeds once, and a PNG drawn by vl-convert with a CJK font, for readers without
    JavaScript. Polars tables show 20 rows, 30 columns and strings up to 60 characters.

    Examples
    --------
    >>> import altair as alt, polars as pl
    >>> before = alt.renderers.active
    >>> with pl.Config():
    ...     setup_notebook()
    ...     alt.renderers.active
    'tierlib'
    >>> _ = alt.renderers.enable(before)
    """
    import altair as alt
    import polars as pl

    from tierlib.rendering import mimebundle

    alt.renderers.register("tierlib", mimebundle)
    alt.renderers.enable("tierlib")
    pl.Config.set_tbl_rows(20)
    pl.Config.set_tbl_cols(30)
    pl.Config.set_fmt_str_lengths(60)
