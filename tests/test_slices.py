"""Slices of whole customers rated in threads (issue 15): ``rate`` of an eager panel cuts it
into slices (``rating.CHUNK_ROWS``) rated ``rating.CHUNK_WORKERS`` at a time; the ledger is
the one of the uncut panel, row for row, in the same order."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib import rating
from tierlib.synth import make_panel


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return make_panel(150, 30, seed=11)[0]


@pytest.fixture(scope="module")
def whole(panel) -> pl.DataFrame:
    # the lazy path rates the panel in one piece, never sliced
    return tierlib.rate(panel.lazy(), "all").collect()


@pytest.mark.parametrize("rows, workers", [(97, 2), (97, 1), (1000, 2), (10**9, 2)])
def test_sliced_threaded_ledger_equals_the_whole_panels(panel, whole, monkeypatch, rows, workers):
    monkeypatch.setattr(rating, "CHUNK_ROWS", rows)
    monkeypatch.setattr(rating, "MIN_SLICE_ROWS", 1)
    monkeypatch.setattr(rating, "CHUNK_WORKERS", workers)
    valid = tierlib.validate(panel)
    based = tierlib.engine.base(valid.lazy()).collect()
    if rows < panel.height:  # the slices do cut the panel, each at a customer's first row
        parts = rating._chunks(based, rows)
        assert len(parts) > 2 and all(p["_i"][0] == 0 for p in parts)
    assert_frame_equal(tierlib.rate(panel, "all"), whole)


def test_a_small_panel_is_shared_between_the_workers(monkeypatch):
    monkeypatch.setattr(rating, "MIN_SLICE_ROWS", 1)
    monkeypatch.setattr(rating, "CHUNK_WORKERS", 2)
    p = make_panel(40, 12, seed=3)[0]
    seen = []
    real = rating._chunks
    monkeypatch.setattr(rating, "_chunks", lambda b, rows: seen.append(rows) or real(b, rows))
    assert_frame_equal(tierlib.rate(p, "unicom_vip"), tierlib.rate(p.lazy(), "unicom_vip").collect())
    assert seen == [-(-p.height // 2)]


@pytest.mark.parametrize("dtype", ["enum", "narrow enum", "categorical"])
def test_brand_and_province_held_as_categories_rate_as_strings(panel, whole, dtype):
    # rate() casts the free-text columns to String only in the plans of the schemes reading
    # them (telecom_club's thresholds by brand, regional provinces); an Enum lacking some
    # threshold key (here 'ehome') must not fail nor change a tier
    cols = ("brand", "province")
    if dtype == "categorical":
        p = panel.with_columns(pl.col(cols).cast(pl.String).cast(pl.Categorical))
    else:
        cats = {c: sorted(set(panel[c].cast(pl.String).drop_nulls())) for c in cols}
        if dtype == "narrow enum":
            p0 = panel.with_columns(brand=pl.when(pl.col("brand").cast(pl.String) == "ehome")
                                    .then(pl.lit("tianyi")).otherwise(pl.col("brand").cast(pl.String)))
            cats["brand"] = [b for b in cats["brand"] if b != "ehome"]
        else:
            p0 = panel
        p = p0.with_columns(pl.col(c).cast(pl.String).cast(pl.Enum(cats[c])) for c in cols)
        if dtype == "narrow enum":
            want = tierlib.rate(p0.with_columns(pl.col(cols).cast(pl.String)).lazy(), "all").collect()
            assert_frame_equal(tierlib.rate(p, "all"), want)
            return
    assert_frame_equal(tierlib.rate(p, "all"), whole)
