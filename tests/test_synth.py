"""The synthetic panel generator (tierlib.synth): determinism, contract, realism, ground truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

import tierlib
from tierlib import synth

START = dt.date(2023, 1, 1)


@pytest.fixture(scope="module")
def default_panel():
    """The default knobs on 5,000 customers x 36 months (the realism checks)."""
    return synth.make_panel(5_000, 36, seed=0)


@pytest.fixture(scope="module")
def big_panel():
    """20,000 customers: enough post-drop churn events to see the drop effect empirically."""
    return synth.make_panel(20_000, 36, seed=3)


def _ledger_rank(panel: pl.DataFrame) -> pl.DataFrame:
    parts = [tierlib.rate(panel.filter(pl.col("carrier") == c), s).select("customer_id", "month", "rank")
             for c, s in synth.MAIN_SCHEME.items()]
    return pl.concat(parts)


# --- determinism ----------------------------------------------------------------------------

def test_same_seed_same_frames():
    a, ta = synth.make_panel(400, 18, seed=7)
    b, tb = synth.make_panel(400, 18, seed=7)
    assert a.equals(b) and ta.equals(tb)


def test_different_seed_different_frames():
    a, _ = synth.make_panel(400, 18, seed=7)
    b, _ = synth.make_panel(400, 18, seed=8)
    assert not a.equals(b)


def test_same_seed_same_parquet_bytes(tmp_path):
    p1 = synth.write_panel(tmp_path / "a", 300, 12, seed=1)
    p2 = synth.write_panel(tmp_path / "b", 300, 12, seed=1)
    for x, y in zip(p1, p2):
        assert x.read_bytes() == y.read_bytes()


def test_blocks_stream_the_same_panel(tmp_path, monkeypatch):
    monkeypatch.setattr(synth, "BLOCK", 150)  # several blocks on a small panel
    panel, truth = synth.make_panel(400, 12, seed=2)
    assert panel["customer_id"].unique().sort().to_list() == list(range(1, 401))
    paths = synth.write_panel(tmp_path, 400, 12, seed=2)
    assert pl.read_parquet(paths[0]).equals(panel)
    assert pl.read_parquet(paths[1]).equals(truth)


# --- the contract ---------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_panel_passes_the_contract(seed):
    panel, truth = synth.make_panel(600, 24, seed=seed)
    checked = tierlib.validate(panel)
    assert checked.height == panel.height == truth.height
    assert checked.select("customer_id", "month").equals(panel.select("customer_id", "month"))
    assert truth.select("customer_id", "month").equals(panel.select("customer_id", "month"))


def test_rows_end_at_churn_and_start_at_join():
    panel, _ = synth.make_panel(1_000, 24, seed=4)
    per = panel.group_by("customer_id").agg(
        n_churn=pl.col("churned").sum(), last_churned=pl.col("churned").last(),
        first=pl.col("month").min(), join=pl.col("join_month").first())
    assert per["n_churn"].max() <= 1
    assert (per["n_churn"] == per["last_churned"].cast(pl.UInt32)).all()  # churned only on the last row
    new = per.filter(pl.col("join") >= START)
    assert new.height > 0 and (new["first"] == new["join"]).all()  # a new join starts at its join month
    old = per.filter(pl.col("join") < START)
    assert old.height > 0 and (old["first"] == START).all()  # left-truncated at start
    assert per["join"].min() < dt.date(2010, 1, 1)  # long-standing customers from the 2000s


def test_population_has_the_documented_mix(default_panel):
    panel, _ = default_panel
    first = panel.group_by("customer_id").first()
    assert set(first["carrier"].cast(str)) == {"mobile", "telecom", "unicom"}
    brands = first.group_by("carrier").agg(pl.col("brand").cast(str).unique())
    by = {r["carrier"]: set(r["brand"]) for r in brands.iter_rows(named=True)}
    assert by["mobile"] == {"gotone", "mzone", "easyown"} and by["telecom"] == {"tianyi", "ehome"}
    assert "wo" in by["unicom"]
    assert first.filter(pl.col("account_type") != "standard").height > 0
    ent = first.filter(pl.col("segment") == "enterprise")
    assert ent.height > 0 and ent["org_revenue"].null_count() == 0
    assert first.filter(pl.col("segment") == "personal")["org_revenue"].null_count() == first.filter(
        pl.col("segment") == "personal").height
    assert set(panel["plan_fee"].unique().to_list()) <= {0.0, *map(float, synth.Knobs().plan_catalogue)}
    assert panel["in_arrears"].any() and panel["suspensions"].max() > 0
    assert (panel["paid"].filter(panel["in_arrears"]) < panel["billed"].filter(panel["in_arrears"])).all()


# --- realism of the defaults ----------------------------------------------------------------

def test_monthly_churn_near_carrier_figures(default_panel):
    panel, _ = default_panel
    assert 0.01 <= panel["churned"].mean() <= 0.02


def test_median_mobile_arpu(default_panel):
    panel, _ = default_panel
    arpu = (panel.filter(pl.col("line") == "mobile").group_by("customer_id")
            .agg(pl.col("billed").mean())["billed"].median())
    assert 50 <= arpu <= 90
    assert panel["billed"].quantile(0.99) > 500  # a tail in the thousands ...
    assert panel["billed"].max() > 1_000


def test_spend_is_persistent_and_seasonal(default_panel):
    panel, _ = default_panel
    lag = panel.with_columns(prev=pl.col("billed").shift(1).over("customer_id"),
                             prev_plan=pl.col("plan_fee").shift(1).over("customer_id")).drop_nulls("prev")
    corr = np.corrcoef(np.log1p(lag["billed"]), np.log1p(lag["prev"]))[0, 1]
    assert corr > 0.8
    changes = lag.filter(pl.col("plan_fee") != pl.col("prev_plan"))
    assert changes.height > 0  # plan changes happen
    # Spring Festival peak over the November trough, on customers present all 36 months
    full = panel.filter(pl.len().over("customer_id") == 36)
    by_month = dict(full.group_by(pl.col("month").dt.month()).agg(pl.col("billed").mean()).iter_rows())
    assert by_month[2] / by_month[11] > 1.04


@pytest.mark.parametrize("carrier", ["telecom", "unicom", "mobile"])
def test_a_few_percent_in_the_top_tier(default_panel, carrier):
    panel, _ = default_panel
    scheme = synth.MAIN_SCHEME[carrier]
    led = tierlib.rate(panel.filter(pl.col("carrier") == carrier), scheme)
    top = len(tierlib.load_scheme(scheme).ladder) - 1
    share = led.filter(pl.col("month") >= dt.date(2025, 1, 1)).select((pl.col("rank") == top).mean()).item()
    assert 0.01 <= share <= 0.08, f"{scheme}: top-tier share {share:.3f}"


# --- ground truth ---------------------------------------------------------------------------

def test_truth_ranks_are_the_ledger_of_the_panel(default_panel):
    """Rating the delivered (churn-truncated) panel gives back the truth's ranks and drops."""
    panel, truth = default_panel
    j = truth.join(_ledger_rank(panel), on=["customer_id", "month"], how="left", suffix="_ledger")
    assert j["rank_ledger"].null_count() == 0
    assert (j["rank"].cast(pl.Int64) == j["rank_ledger"].cast(pl.Int64)).all()
    drop = (pl.col("rank") < pl.col("rank").shift(1)).over("customer_id").fill_null(False)
    assert truth.select((drop == pl.col("tier_drop")).all()).item()


def test_post_drop_window_follows_drops(default_panel):
    _, truth = default_panel
    w = synth.Knobs().drop_window
    # post_drop iff a drop happened in this month or the w - 1 months before
    recent = pl.any_horizontal([pl.col("tier_drop").shift(j).over("customer_id").fill_null(False)
                                for j in range(w)])
    assert truth.select((recent == pl.col("post_drop")).all()).item()
    assert truth["post_drop"].sum() > 100


def test_hazard_ratio_is_the_knob(default_panel):
    _, truth = default_panel
    post = truth.filter("post_drop")
    ratio = (post["hazard"] / post["base_hazard"]).to_numpy()
    assert np.allclose(ratio, 2.5, rtol=1e-5)
    off = truth.filter(~pl.col("post_drop"))
    assert (off["hazard"] == off["base_hazard"]).all()
    assert (truth["drop_effect"] == 2.5).all()


def test_no_drop_effect_knob():
    _, truth = synth.make_panel(1_000, 24, seed=5, drop_effect=1.0)
    assert (truth["hazard"] == truth["base_hazard"]).all()


@pytest.mark.slow  # 20,000 customers x 36 months
def test_drop_effect_visible_in_churn(big_panel):
    """Churn events in post-drop months over the base hazard's expectation: about the knob."""
    _, truth = big_panel
    post = truth.filter("post_drop")
    ratio = post["churned"].sum() / post["base_hazard"].sum()
    assert 1.8 <= ratio <= 3.4
    rest = truth.filter(~pl.col("post_drop"))
    assert 0.9 <= rest["churned"].sum() / rest["hazard"].sum() <= 1.1  # churn is drawn from the hazard


# --- knobs and CLI --------------------------------------------------------------------------

def test_unknown_knob_is_an_error():
    with pytest.raises(TypeError, match="no_such_knob"):
        synth.make_panel(10, 3, no_such_knob=1)


def test_bad_arguments():
    with pytest.raises(ValueError):
        synth.make_panel(0, 12)
    with pytest.raises(ValueError, match="start: .2023-01-15. is not a month"):
        synth.make_panel(10, 3, start="2023-01-15")


def test_cli_hook(tmp_path, capsys):
    from tierlib.cli import main

    assert main(["synth", "--customers", "50", "--months", "6", "--seed", "3",
                 "--out", str(tmp_path), "--knob", "drop_effect=3.0"]) == 0
    panel = pl.read_parquet(tmp_path / "panel.parquet")
    truth = pl.read_parquet(tmp_path / "truth.parquet")
    expected, _ = synth.make_panel(50, 6, seed=3, drop_effect=3.0)
    assert panel.equals(expected) and (truth["drop_effect"] == 3.0).all()
    assert "SYNTHETIC" in capsys.readouterr().out


def test_share_knobs_given_are_the_shares_used():
    # issue 9 item 10: {"telecom": 1.0} was merged into the defaults and gave a 55 % telecom panel
    panel, _ = synth.make_panel(600, 3, seed=4, carrier_shares={"telecom": 1.0})
    assert panel["carrier"].cast(pl.String).unique().to_list() == ["telecom"]
    panel, _ = synth.make_panel(4_000, 2, seed=4, carrier_shares={"unicom": 0.5, "mobile": 0.5})
    shares = panel.filter(pl.col("month") == START)["carrier"].cast(pl.String).value_counts(normalize=True)
    got = dict(zip(shares["carrier"], shares["proportion"]))
    assert set(got) == {"unicom", "mobile"} and got["unicom"] == pytest.approx(0.5, abs=0.03)
    k = synth.Knobs.make(account_type_shares={"standard": 0.9, "prepaid": 0.1},
                         brand_shares={"mobile": {"gotone": 1.0}})
    assert k.account_type_shares == {"standard": 0.9, "prepaid": 0.1}
    assert k.brand_shares["mobile"] == {"gotone": 1.0} and k.brand_shares["unicom"] == synth.Knobs().brand_shares["unicom"]
    panel, _ = synth.make_panel(500, 2, seed=4, account_type_shares={"standard": 1.0},
                                brand_shares={"mobile": {"gotone": 1.0}})
    assert set(panel["account_type"].cast(pl.String)) == {"standard"}
    assert set(panel.filter(pl.col("carrier") == "mobile")["brand"].cast(pl.String)) == {"gotone"}


@pytest.mark.parametrize("knobs, message", [
    ({"carrier_shares": {"telecom": 0.5}}, r"carrier_shares: shares \{'telecom': 0.5\} sum to 0.5, not 1"),
    ({"carrier_shares": {"telecom": 0.7, "unicom": 0.7}}, "sum to 1.4"),
    ({"carrier_shares": {"telcom": 1.0}}, "unknown name.*'telcom'"),
    ({"carrier_shares": {"telecom": -1.0, "unicom": 2.0}}, r"numbers in \[0, 1\]"),
    ({"official_rank_shares": {"bureau": 0.8, "section": 0.3}}, "at most 1"),
    ({"brand_shares": {"unicom": {"wo": 0.5}}}, r"brand_shares\['unicom'\].*sum to 0.5"),
])
def test_share_knobs_that_are_not_a_whole_mix_are_refused(knobs, message):
    with pytest.raises(ValueError, match=message):
        synth.Knobs.make(**knobs)


def test_dict_knobs_merge_into_defaults():
    k = synth.Knobs.make(brand_median={"gotone": 500.0}, decline_rate=[0.01, 0.02],
                         official_rank_shares={"bureau": 0.1})
    assert k.official_rank_shares == {"bureau": 0.1}  # a share knob is not merged
    assert k.brand_median["gotone"] == 500.0 and k.brand_median["wo"] == synth.Knobs().brand_median["wo"]
    assert k.decline_rate == (0.01, 0.02)
    with pytest.raises(ValueError, match="drop_window"):
        synth.Knobs.make(drop_window=0)
