"""Where the bundled sample lives, and loading a panel the same way from any working directory.

Notebooks run with their own folder as working directory (JupyterLab, papermill, ``tierlib
report``) while scripts run from the repository root; :func:`find_file` finds a relative path
from either, so a notebook's default ``panel = "data/sample/panel.parquet"`` works everywhere.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tierlib.panel import of_carrier

__all__ = ["REPO", "SAMPLE_PANEL", "sample_panel", "find_file", "load_panel"]

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PANEL = "data/sample/panel.parquet"


def sample_panel() -> Path:
    """The bundled synthetic sample panel (see ``data/README.md``).

    >>> sample_panel().name
    'panel.parquet'
    """
    return REPO / SAMPLE_PANEL


def find_file(path: str | Path) -> Path:
    """An existing file: absolute as given; relative from the working directory, one of its
    parents (a notebook folder inside the repository), or the repository root.

    >>> find_file("data/sample/panel.parquet") == sample_panel()
    True
    """
    p = Path(path).expanduser()
    if p.is_absolute():
        if p.exists():
            return p
        raise FileNotFoundError(f"{p} does not exist")
    tried = [d / p for d in (Path.cwd(), *Path.cwd().parents)] + [REPO / p]
    for candidate in tried:
        if candidate.exists():
            return candidate.resolve()
    raise FileNotFoundError(f"'{path}' not found from {Path.cwd()}, its parents or the repository root {REPO}")


def load_panel(path: str | Path | None = None, *, max_customers: int | None = None, seed: int = 0,
               carrier: str | None = None) -> pl.DataFrame:
    """Read a panel (parquet or CSV), optionally one carrier's customers and a random subsample.

    Parameters
    ----------
    path : the panel file or folder (default: the bundled sample), found with :func:`find_file`,
        read with :func:`tierlib.io.read_panel` (CSV with the contract's dtypes).
    max_customers : keep at most this many customers, drawn at random (all their months).
    seed : the draw's seed (same seed, same customers).
    carrier : keep the customers of one carrier (needs a ``carrier`` column, as in the sample).

    >>> load_panel(max_customers=50)["customer_id"].n_unique()
    50
    """
    from tierlib.io import read_panel

    p = find_file(path or SAMPLE_PANEL)
    lf = read_panel(p, lazy=True)
    if carrier is not None:
        lf = _of_carrier(lf, carrier, p)
    if max_customers is not None:
        ids = lf.select(pl.col("customer_id").unique().sort()).collect().to_series()
        if ids.len() > max_customers:
            keep = ids.sample(max_customers, seed=seed)
            lf = lf.filter(pl.col("customer_id").is_in(keep.implode()))
    return lf.collect()


def _of_carrier(lf: pl.LazyFrame, carrier: str, source: Path) -> pl.LazyFrame:
    """One carrier's customers (:func:`tierlib.panel.of_carrier`); asking without the column is an error."""
    if "carrier" not in lf.collect_schema().names():
        raise ValueError(f"{source} has no 'carrier' column to select carrier '{carrier}' from")
    return of_carrier(lf, carrier)
