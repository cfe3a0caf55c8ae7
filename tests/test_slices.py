"""Slices of whole customers rated in threads (issue 15): ``rate`` of an eager panel cuts it
into slices (``rating.CHUNK_ROWS``) rated ``rating.CHUNK_WORKERS`` at a time; the ledger is
the one of the uncut panel, row for row, in the same order."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib import rating
from tierlib.synth import make_panel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    return make_panel(150, 30, seed=11)[0]


@pytest.fixture(scope="module")
def whole(panel) -> pl.DataFrame:
    # the lazy path rates the panel in one piece, never sliced
    return tierlib.rate(panel.lazy(), "all").collect()


@pytest.mark.parametrize("rows, workers", [(97, 2), (97, 1), (7, 2), (1000, 2), (10**9, 2)])  # 7: shorter than a customer
def test_sliced_threaded_ledger_equals_the_whole_panels(panel, whole, monkeypatch, rows, workers):
    monkeypatch.setattr(rating, "CHUNK_ROWS", rows)
    monkeypatch.setattr(rating, "MIN_SLICE_ROWS", 1)
    monkeypatch.setattr(rating, "CHUNK_WORKERS", workers)
    valid = tierlib.validate(panel)
    based = tierlib.engine.base(valid.lazy()).collect()
    if rows < panel.height:  # the slices do cut the panel, each at a customer's first row
        parts = rating._chunks(based, rows)
        assert len(parts) > 2 and all(p["_i"][0] == 0 for p in parts)
        assert sum(p.height for p in parts) == based.height
        starts = based.with_row_index().filter(pl.col("_i") == 0)["index"].to_list()
        cuts = [0] + list(itertools.accumulate(p.height for p in parts))[:-1]
        # each cut is the first customer start at or after the previous cut + rows
        assert cuts == [0] + [min(s for s in starts if s >= c + rows) for c in cuts[:-1]]
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


def test_window_sums_shared_by_schemes_are_computed_once(panel, monkeypatch):
    # rate(panel, "all"): the 12-month billed sum (telecom_star, telecom_club, mobile_credit's
    # mean) and the 12-month suspensions (telecom_star, mobile_credit) are summed once each,
    # on the whole based frame, and the ledgers are those of each scheme rated alone
    from tierlib import windows

    schemes = rating._resolve_schemes("all")
    assert [e.meta.output_name() for e in rating.shared_windows(schemes)] == ["_w:billed:12", "_w:suspensions:12"]
    assert rating.shared_windows(rating._resolve_schemes("telecom_star")) == []
    summed = []
    real = windows._window_batch
    monkeypatch.setattr(windows, "_window_batch", lambda b, *a: summed.append(len(b)) or real(b, *a))
    together = tierlib.rate(panel, "all")
    rows_together, summed[:] = sum(summed), []
    alone = pl.concat([tierlib.rate(panel, s) for s in schemes])
    assert_frame_equal(together, alone)
    assert sum(summed) - rows_together == 3 * panel.height  # two billed sums and one suspensions sum fewer


def test_a_dated_window_is_not_shared(panel):
    # a window whose length changes at a date is the scheme's own (each period reads its length)
    import datetime as dt

    star = tierlib.load_scheme("telecom_star").with_values(
        {"window_months": {"from": dt.date(2024, 6, 1), "value": 6}}, name="star_6")
    club = tierlib.load_scheme("telecom_club")
    assert [e.meta.output_name() for e in rating.shared_windows([star, club])] == []
    together = tierlib.rate(panel, [star, club])
    assert_frame_equal(together, pl.concat([tierlib.rate(panel, star), tierlib.rate(panel, club)]))


def test_a_window_whose_one_value_is_dated_rates_as_before(tmp_path):
    # a window parameter with a single value in force from a date is dated: it is the
    # scheme's own (not shared), and a panel after that date rates as with the plain value
    import yaml

    doc = yaml.safe_load((ROOT / "tierlib" / "rules" / "unicom_vip.yaml").read_text(encoding="utf-8"))
    doc["id"] = "unicom_vip_dated"
    doc["parameters"]["window_months"] = {"values": [{"from": "2020-01-01", "value": 6, "source": "seed 001",
                                                      "reference": "test"}]}
    f = tmp_path / "unicom_vip_dated.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    dated, plain = tierlib.load_scheme(f), tierlib.load_scheme("unicom_vip")
    p = make_panel(60, 24, seed=2)[0]
    assert p["month"].min() >= dt.date(2020, 1, 1)
    assert rating.shared_windows([dated, plain]) == []
    want = tierlib.rate(p, plain).drop("scheme")
    assert_frame_equal(tierlib.rate(p, dated).drop("scheme"), want)
    assert_frame_equal(tierlib.rate(p, [dated, plain]).filter(pl.col("scheme") == "unicom_vip_dated").drop("scheme"), want)


def test_a_tier_from_a_count_column_reads_its_text(tmp_path):
    # tier_from_column on a number column: its values are matched as the keys are written,
    # so the ledger is the one of the same column held as text
    import yaml

    doc = yaml.safe_load((ROOT / "tierlib" / "rules" / "telecom_club.yaml").read_text(encoding="utf-8"))
    doc["parameters"]["levels"] = {str(k): {"value": t, "source": "assumed", "reference": "test"}
                                   for k, t in ((1, "silver"), (2, "gold"), (3, "diamond"))}
    doc["rule"]["tier_from_column"] = {"column": "level", "tiers": "levels"}
    files = {}
    for kind in ("count", "text"):
        doc["id"] = f"club_{kind}"
        doc["rule"]["columns"] = {"level": {"type": kind}}
        files[kind] = tmp_path / f"club_{kind}.yaml"
        files[kind].write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    p = make_panel(40, 12, seed=4)[0].with_columns(level=(pl.col("customer_id").cast(pl.Int64) % 5).cast(pl.Int32))
    got = tierlib.rate(p, files["count"]).drop("scheme")
    want = tierlib.rate(p.with_columns(pl.col("level").cast(pl.String)), files["text"]).drop("scheme")
    assert_frame_equal(got, want)
    assert got.join(p.select("customer_id", "month", "level"), on=["customer_id", "month"]).filter(
        pl.col("level") == 3)["assessed_rank"].max() == 3


def test_cuts_far_apart_are_found_past_the_first_stretch():
    # customers of 1,000 rows and slices of 10 rows: each cut is looked for beyond 256 rows
    based = pl.DataFrame({"_i": pl.int_range(0, 1000, eager=True).cast(pl.Int32).to_list() * 5})
    parts = rating._chunks(based, 10)
    assert [p.height for p in parts] == [1000] * 5 and all(p["_i"][0] == 0 for p in parts)
    assert [p.height for p in rating._chunks(based.head(1500), 10)] == [1000, 500]
