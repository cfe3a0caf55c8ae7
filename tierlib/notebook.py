"""Notebook side of the reports: the set-up call every report notebook makes in its first cell.

Kept apart from the report runner (:mod:`tierlib.report`) so that a notebook, run in
JupyterLab or by ``tierlib report``, imports only altair and polars here.
"""

from __future__ import annotations

def setup_notebook() -> None:
    """Set up a notebook's display for offline reports; call it in the notebook's first cell.

    Altair charts render to SVG in the kernel (vl-convert; no script, no CDN), in JupyterLab
    and in the report pages alike (no tooltips or zoom: a report page is a printout). Polars
    tables show 20 rows, 30 columns and strings up to 60 characters.

    Examples
    --------
    >>> import altair as alt, polars as pl
    >>> before = alt.renderers.active
    >>> with pl.Config():
    ...     setup_notebook()
    ...     alt.renderers.active
    'svg'
    >>> _ = alt.renderers.enable(before)
    """
    import altair as alt
    import polars as pl

    alt.renderers.enable("svg")
    pl.Config.set_tbl_rows(20)
    pl.Config.set_tbl_cols(30)
    pl.Config.set_fmt_str_lengths(60)
