"""Notebook side of the reports: the set-up call every report notebook makes in its first cell.

Kept apart from the report runner (:mod:`tierlib.report`) so that a notebook, run in
JupyterLab or by ``tierlib report``, imports only altair and polars here.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["TABLES_ENV", "setup_notebook", "table"]

#: Set by ``tierlib report`` for each notebook's kernel: the folder where :func:`table` leaves
#: the notebook's key tables, which the run publishes as one workbook and CSV files.
TABLES_ENV = "TIERLIB_REPORT_TABLES"


def table(df, name: str):
    """Mark ``df`` as one of the notebook's key tables (a sheet named ``name``); return it unchanged.

    In JupyterLab this only returns ``df`` (so ``table(df, "...")`` as a cell's last line shows
    it). Under ``tierlib report`` (environment variable :data:`TABLES_ENV` set) it also writes
    ``df`` to that folder, numbered in call order, for the run to publish as Excel and CSV.

    Examples
    --------
    >>> import polars as pl, tempfile
    >>> t = pl.DataFrame({"tier": ["金卡 gold"], "customers": [3]})
    >>> table(t, "members 会员") is t
    True
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

    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"table {name!r}: a polars DataFrame is expected, not {type(df).__name__}")
    folder = os.environ.get(TABLES_ENV)
    if folder:
        d = Path(folder)
        n = sum(1 for p in d.glob("[0-9][0-9][0-9].parquet")) + 1
        df.write_parquet(d / f"{n:03d}.parquet", metadata={"tierlib_table": str(name)})
    return df


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
