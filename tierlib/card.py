"""A scheme's card and its assumptions: what an analyst reads before trusting a number.

The card's text is rendered by :mod:`tierlib.cardtext` (one renderer for schemes and benefit
catalogues); :func:`render_card` is re-exported from there.
"""

from __future__ import annotations

import polars as pl

from tierlib.benefits import catalogues_for
from tierlib.cardtext import scheme_card as render_card
from tierlib.params import Scheme
from tierlib.schemefiles import load_scheme

__all__ = ["render_card", "assumptions"]


def assumptions(schemes, catalogues=None) -> pl.DataFrame:
    """Every assumed number behind a set of schemes: their rules and their benefit catalogues.

    One row per parameter whose latest value is ``source: assumed``: ``scheme``, ``file``
    (``rules`` or ``benefits``), ``path``, ``value``, ``reference``. A dated parameter shows
    its latest value with the month it starts (``from 2025-02-01: ...``).

    >>> a = assumptions(["unicom_vip"])
    >>> a.filter(file="rules")["path"].to_list()
    ['thresholds.fixed.silver']
    """
    given = [schemes] if isinstance(schemes, (str, Scheme)) else list(schemes)
    smap = {s.key if isinstance(s, Scheme) else s: load_scheme(s) for s in given}
    rows = []

    def _rows(key: str, file: str, params) -> list[tuple]:
        out = []
        for p in params.values():
            v = p.history[-1]
            if v.assumed:
                when = f"from {v.start}: " if v.start else ""
                out.append((key, file, p.path, when + str(v.value), v.reference))
        return out

    for key, s in smap.items():
        rows += _rows(key, "rules", s.params)
    for key, cat in catalogues_for(smap, catalogues).items():
        rows += _rows(key, "benefits", cat.params)
    return pl.DataFrame(rows, schema=["scheme", "file", "path", "value", "reference"], orient="row")
