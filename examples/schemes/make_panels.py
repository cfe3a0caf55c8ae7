"""Writes the example panels of examples/schemes/ (fixed seed): ``python examples/schemes/make_panels.py``.

example_icbc_star_panel.csv: 40 bank customers, joined in 2023, to 2024-12, with the column star_points (星点值);
example_supermarket_abcd_panel.csv: 40 members likewise, billed = the month's spend (yuan).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).parent


def _months(start: dt.date, n: int) -> list[dt.date]:
    return [dt.date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1) for k in range(n)]


def panel(seed: int, scale: np.ndarray, column: str) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c, level in enumerate(scale):
        join = dt.date(2023, 1 + int(rng.integers(0, 12)), 1)
        for m in _months(join, 24 - join.month + 1):  # to 2024-12, the panel's last month
            rows.append({"customer_id": f"{column[:1]}{c:03d}", "month": m, "join_month": join,
                         "value": round(float(level * rng.lognormal(0.0, 0.4)), 2)})
    out = pl.DataFrame(rows)
    if column == "billed":
        return out.rename({"value": "billed"})
    return out.rename({"value": column}).with_columns(billed=pl.lit(0.0)).select(
        "customer_id", "month", "join_month", "billed", column)


if __name__ == "__main__":
    levels = np.geomspace(5, 60000, 40)  # 星点值 from 准星级 to 七星级
    panel(0, levels, "star_points").write_csv(HERE / "example_icbc_star_panel.csv")
    spend = np.geomspace(20, 900, 40)  # monthly spend: yearly points from A to D
    panel(2, spend, "billed").write_csv(HERE / "example_supermarket_abcd_panel.csv")
