"""tierlib.churn: near-drop customers, churn model, expected churn, drop effect, reform cost.

Hand-built panels check exact values; synthetic panels (tierlib.synth, whose churn hazard is
known) check the accuracy bars of issue #5. The synthetic panels are drawn once per session,
with seeds that were not used while developing the module (MODEL_SEED, EFFECT_SEED).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import numpy as np
import polars as pl
import pytest
from sklearn.utils.estimator_checks import check_estimator

import tierlib
from tierlib.churn import (FEATURES, ChurnModel, churn_features, drop_effect, expected_churn,
                           fit_churn, near_drop, reform_churn_cost,
                           reform_churn_cost_ledgers, rerating_events, retention_list)
from tierlib.churn.effect import MIN_EVENTS
from tierlib.churn.rd import local_rate
from tierlib.reforms import simulate
from tierlib.synth import MAIN_SCHEME, make_panel

MODEL_SEED = 7301   # fresh seeds, never run while the module was developed
EFFECT_SEED = 7302
SHORT_SEED = 7303   # issue 9 item 8: a 24-month panel
N_MODEL, N_EFFECT, MONTHS = 25_000, 30_000, 36
N_SHORT, SHORT_MONTHS = 30_000, 24
N_REFIT = 5
KNOBS = (1.0, 2.5, 4.0)


def months(first: dt.date, n: int) -> list[dt.date]:
    t = first.year * 12 + first.month - 1
    return [dt.date((t + i) // 12, (t + i) % 12 + 1, 1) for i in range(n)]


def panel_of(cid, billed, *, first=dt.date(2024, 1, 1), **cols) -> pl.DataFrame:
    ms = months(first, len(billed))
    return pl.DataFrame({"customer_id": cid, "month": ms, "join_month": first, "billed": billed, **cols})


def hazard_truth(truth: pl.DataFrame, rows: pl.DataFrame, k: int) -> float:
    """Sum of the generator's true monthly hazards over months m .. m+k-1 of the given rows."""
    h = truth.select("customer_id", th=pl.col("month").dt.year().cast(pl.Int32) * 12
                     + pl.col("month").dt.month().cast(pl.Int32) - 1, hazard="hazard")
    j = rows.select("customer_id", "t").join(h, on="customer_id")
    return float(j.filter(pl.col("th").is_between(pl.col("t"), pl.col("t") + k - 1))["hazard"].sum())


# --- session fixtures: synthetic panels drawn once ----------------------------------------

@pytest.fixture(scope="session")
def synth():
    panel, truth = make_panel(N_MODEL, MONTHS, seed=MODEL_SEED)
    return panel, truth, tierlib.rate(panel, list(MAIN_SCHEME.values()), own_carrier=True)


@pytest.fixture(scope="session")
def fit(synth):
    panel, _, ledger = synth
    model = ChurnModel(max_iter=100, max_train_rows=300_000, random_state=0)
    return fit_churn(panel, ledger, model=model, n_refit=N_REFIT)


@pytest.fixture(scope="session")
def short():
    """A 24-month panel: training months before any re-rating, few events at the floor."""
    panel, truth = make_panel(N_SHORT, SHORT_MONTHS, seed=SHORT_SEED)
    ledger = tierlib.rate(panel, list(MAIN_SCHEME.values()), own_carrier=True)
    model = ChurnModel(max_iter=50, max_train_rows=200_000, random_state=0)
    return panel, ledger, fit_churn(panel, ledger, model=model, n_refit=3)


@pytest.fixture(scope="session")
def effects():
    out = {}
    for knob in KNOBS:
        panel, _ = make_panel(N_EFFECT, MONTHS, seed=EFFECT_SEED, drop_effect=knob)
        out[knob] = drop_effect(panel, tierlib.rate(panel, list(MAIN_SCHEME.values()), own_carrier=True),
                                n_boot=200, random_state=1)
    return out


# --- 1. near drop ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vip_ledger():
    # c1: gold Feb 2024 (mean 300) valid to Jan 2025, then spend falls to 100 -> only validity holds
    # c2: silver at 160 (floor 150, gap 6.7 %); c3: silver at 165 (gap exactly 10 %); c4: 166 (10.7 %)
    p = pl.concat([panel_of("c1", [300.0] * 3 + [100.0] * 11), panel_of("c2", [160.0] * 14),
                   panel_of("c3", [165.0] * 14), panel_of("c4", [166.0] * 14)])
    return p, tierlib.rate(p, "unicom_vip")


def test_near_drop_expiring_counts_months_to_the_end_of_validity(vip_ledger):
    _, led = vip_ledger
    nd = near_drop(led).filter(pl.col("customer_id") == "c1")
    got = {r["month"]: (r["months_to_expiry"], r["reason"]) for r in nd.iter_rows(named=True)}
    # validity ends 2025-01 (month index of valid_until): horizon 3 -> expiry 0, 1, 2 months away
    assert got == {dt.date(2024, 2, 1): (11, "near_floor"), dt.date(2024, 3, 1): (10, "near_floor"),
                   dt.date(2024, 4, 1): (9, "near_floor"),  # score exactly at the gold floor (300)
                   dt.date(2024, 11, 1): (2, "expiring"), dt.date(2024, 12, 1): (1, "expiring"),
                   dt.date(2025, 1, 1): (0, "expiring")}
    row = nd.filter(pl.col("expiring")).row(0, named=True)
    assert row["tier"] == "gold" and row["floor"] == 300.0
    assert row["gap"] == pytest.approx((100.0 - 300.0) / 300.0)  # mean billed 100 vs floor 300
    assert near_drop(led, horizon=4).filter((pl.col("customer_id") == "c1") & pl.col("expiring")).height == 4


def test_near_drop_margin_is_inclusive_and_relative_to_the_floor(vip_ledger):
    _, led = vip_ledger
    last = near_drop(led, as_of="2025-02-01")
    gaps = dict(zip(last["customer_id"], last["gap"]))
    assert set(gaps) == {"c2", "c3"}  # c4 is 10.7 % above its floor; c1 has no tier left
    assert gaps["c2"] == pytest.approx(10 / 150) and gaps["c3"] == pytest.approx(0.10)
    assert set(near_drop(led, as_of="2025-02-01", margin=0.2)["customer_id"]) == {"c2", "c3", "c4"}
    assert near_drop(led, as_of="2025-02-01", margin=0.05).height == 0


def test_near_drop_never_expiring_without_a_validity_end():
    p = panel_of("c1", [2000.0] * 2 + [10.0] * 10)
    for scheme in ("unicom_ladder", "mobile_credit"):
        nd = near_drop(tierlib.rate(p, scheme))
        assert not nd["expiring"].any(), scheme


def test_near_drop_lazy_equals_eager(vip_ledger):
    _, led = vip_ledger
    assert near_drop(led.lazy(), margin=0.2).collect().equals(near_drop(led, margin=0.2))


def test_near_drop_rejects_bad_settings(vip_ledger):
    _, led = vip_ledger
    with pytest.raises(ValueError, match="horizon"):
        near_drop(led, horizon=0)
    with pytest.raises(ValueError, match="lacks column"):
        near_drop(led.drop("to_keep"))


def test_near_drop_and_rerating_events_read_the_ledgers_floor_and_rerated(vip_ledger):
    """Issue 11 item 1: the floor and the re-rating month come from the ledger, not rebuilt."""
    p, led = vip_ledger
    with pytest.raises(ValueError, match="lacks column.*floor"):
        near_drop(led.drop("floor"))
    with pytest.raises(ValueError, match="lacks column.*rerated"):
        rerating_events(p, led.drop("rerated"))
    ev = rerating_events(p, led)
    assert ev.height == led.filter(pl.col("rerated")).height > 0


# --- 2. features, model, fit ----------------------------------------------------------------

def test_features_values_on_a_hand_built_panel():
    billed = [100.0, 100.0, 100.0, 200.0, 200.0, 200.0, 300.0, 90.0]
    p = panel_of("c1", billed, in_arrears=[False, True, True, False, False, False, False, False],
                 suspensions=[0, 1, 0, 0, 0, 0, 0, 0], churned=[False] * 7 + [True])
    f = churn_features(p, tierlib.rate(p, "unicom_vip"), k=3)
    row = f.filter(pl.col("month") == dt.date(2024, 7, 1)).row(0, named=True)
    assert row["spend_1"] == 200.0 and row["spend_3"] == 200.0
    assert row["spend_12"] == pytest.approx(900 / 6)
    assert row["trend"] == pytest.approx(np.log(201 / 101))
    assert row["arrears_6"] == 2 and row["arrears_1"] == 0 and row["suspensions_12"] == 1
    # revenue (tierlib.revenue): billed of the 12 months up to and including the row's month
    assert row["tenure"] == 6 and row["revenue"] == 1200.0 and row["month_of_year"] == 7
    # leaves at the end of 2024-08: within 3 months of June, July and August, not of May
    y = dict(zip(f["month"], f["y"]))
    assert [y[m] for m in months(dt.date(2024, 5, 1), 4)] == [False, True, True, True]
    # a leaver counts as watched to the panel's end (August), like everyone else: windows from
    # July on reach past it, so those rows are not observed even though this customer left
    obs = dict(zip(f["month"], f["observed"]))
    assert obs[dt.date(2024, 6, 1)] and not obs[dt.date(2024, 7, 1)]


def test_features_observed_only_when_the_window_is_inside_the_data():
    p = pl.concat([panel_of("stay", [50.0] * 10), panel_of("short", [50.0] * 4)])
    f = churn_features(p, tierlib.rate(p, "unicom_vip"), k=3)
    obs = {(r["customer_id"], r["month"].month): r["observed"] for r in f.iter_rows(named=True)}
    assert obs[("stay", 8)] and not obs[("stay", 9)]  # panel ends in October
    assert obs[("short", 2)] and not obs[("short", 3)]  # vanished in April without `churned`


def test_features_drop_flags():
    p = panel_of("c1", [300.0] * 3 + [100.0] * 12)
    f = churn_features(p, tierlib.rate(p, "unicom_vip"))
    drop_row = f.filter(pl.col("dropped_now"))
    assert drop_row["month"].to_list() == [dt.date(2025, 2, 1)]
    since = dict(zip(f["month"], f["months_since_drop"]))
    assert since[dt.date(2025, 3, 1)] == 1 and since[dt.date(2025, 1, 1)] is None


def test_features_see_no_month_at_or_after_the_as_of_month():
    panel, _ = make_panel(300, 24, seed=5)
    panel = panel.filter(pl.col("carrier") == "unicom").drop("carrier")
    cut = dt.date(2024, 6, 1)
    changed = panel.with_columns(
        billed=pl.when(pl.col("month") >= cut).then(pl.col("billed") * 3 + 50).otherwise(pl.col("billed")),
        in_arrears=pl.when(pl.col("month") >= cut).then(True).otherwise(pl.col("in_arrears")),
        suspensions=pl.when(pl.col("month") >= cut).then(2).otherwise(pl.col("suspensions")))
    a, b = (churn_features(x, tierlib.rate(x, "unicom_vip")) for x in (panel, changed))
    keys = ["customer_id", "month", *FEATURES]
    assert a.filter(pl.col("month") <= cut).select(keys).equals(b.filter(pl.col("month") <= cut).select(keys))
    # revenue is a weight, not a model input: by its definition it includes the row's own month
    rev = ["customer_id", "month", "revenue"]
    assert a.filter(pl.col("month") < cut).select(rev).equals(b.filter(pl.col("month") < cut).select(rev))


def test_features_lazy_equals_eager(vip_ledger):
    p, led = vip_ledger
    assert churn_features(p.lazy(), led.lazy()).collect().equals(churn_features(p, led))


@pytest.mark.parametrize("params", [{"base": "hgb"}, {"base": "logistic"}, {"method": "sigmoid", "adjust": (0,)}],
                         ids=["hgb", "logistic", "sigmoid-adjusted"])
def test_churn_model_passes_sklearn_estimator_checks(params):
    check_estimator(ChurnModel(max_iter=5, min_samples_leaf=5, random_state=0, **params))


def test_churn_model_calibrates_on_the_latest_time_slice():
    rng = np.random.default_rng(0)
    t = np.repeat(np.arange(10), 300)
    X = rng.normal(size=(t.size, 2))
    y = rng.random(t.size) < 1 / (1 + np.exp(-(X[:, 0] - 2)))
    m = ChurnModel(max_iter=20, calibration_size=3, gap=2, random_state=0).fit(X, y, time=t)
    assert m.calibration_start_ == 7 and m.calibration_rows_ == 900
    assert m.train_rows_ == 1500  # times 0..4: times 5 and 6 are the gap
    with pytest.raises(ValueError, match="Only binary"):
        ChurnModel().fit(X, t % 3)


def test_calibration_adjustment_learns_what_the_base_model_missed():
    # the base model sees only x0; the calibration slice learns the effect of x1 on top
    rng = np.random.default_rng(1)
    t = np.repeat(np.arange(8), 5000)
    X = np.column_stack([rng.normal(size=t.size), rng.integers(0, 3, t.size)])
    y = rng.random(t.size) < 1 / (1 + np.exp(-(-3 + 0.5 * X[:, 0] + 0.6 * X[:, 1] * (t >= 4))))
    X_seen = np.column_stack([X[:, 0], np.where(t >= 4, X[:, 1], 0)])  # x1 only known later
    m = ChurnModel(base="logistic", calibration_size=4, adjust=(1,), random_state=0).fit(X_seen, y, time=t)
    assert m.calibrator_.beta_[1] == pytest.approx(0.6, abs=0.15)
    late = t >= 4
    p = m.predict_proba(X_seen[late])[:, 1]
    for level in (0, 2):
        sel = X_seen[late, 1] == level
        assert p[sel].mean() == pytest.approx(y[late][sel].mean(), rel=0.1)


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_fit_split_is_forward_in_time_with_gaps(fit):
    s, k = fit.scored, fit.k
    span = {p: (g["t"].min(), g["t"].max()) for (p,), g in s.group_by("period")}
    assert span["train"][1] + k - 1 < span["calibration"][0]  # training windows end before calibration
    assert span["calibration"][1] + k - 1 < span["test"][0]
    assert s.filter(pl.col("period").is_in(["train", "calibration", "test"]))["observed"].all()
    assert s.filter(pl.col("period") == "unobserved")["t"].min() == s["t"].max() - k + 2
    ev = fit.evaluation_model
    assert ev.calibration_rows_ == s.filter(pl.col("period") == "calibration").height
    assert ev.train_rows_ == min(300_000, s.filter(pl.col("period") == "train").height)
    # the scoring model: the same split moved forward, calibrated on the latest observed months
    assert fit.scoring_periods["calibration"] == fit.periods["test"]
    assert fit.model.calibration_rows_ == s.filter(pl.col("period") == "test").height


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_model_is_calibrated_on_the_held_out_period(fit):
    m = fit.metrics
    print(f"\n{fit.summary()}")
    assert m["ece"] < 0.01  # measured 0.003-0.006 on development seeds, base rate ~4 %
    assert abs(m["mean_p"] / m["churn_rate"] - 1) < 0.15
    assert 0.52 < m["roc_auc"] < 0.75  # the true hazard itself ranks with AUC ~0.60 (benchmark)
    assert m["brier"] < m["churn_rate"] * (1 - m["churn_rate"])  # beats the base rate
    cal = fit.calibration
    assert cal["n"].sum() == m["n"] and (np.diff(cal["mean_p"].to_numpy()) > -1e-12).all()


# --- 3. expected churn, revenue at risk, retention list -------------------------------------

@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_expected_churn_among_near_drop_is_within_15_percent_of_the_truth(fit, synth):
    _, truth, _ = synth
    month = fit.periods["test"][1]  # the latest as-of month whose 3-month window is observed
    ec = expected_churn(fit, as_of=month)
    rows = fit.scored.filter((pl.col("month") == month) & (pl.col("expiring") | pl.col("near_floor")))
    true = hazard_truth(truth, rows, fit.k)
    got = ec.total()["expected"]
    print(f"\nnear-drop {month}: expected {got:.1f}, truth {true:.1f} ({got / true - 1:+.1%}), "
          f"realised {int(rows['y'].sum())}")
    assert abs(got / true - 1) < 0.15
    test_rows = fit.scored.filter((pl.col("period") == "test") & (pl.col("expiring") | pl.col("near_floor")))
    assert abs(test_rows["p_eval"].sum() / hazard_truth(truth, test_rows, fit.k) - 1) < 0.15


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_expected_churn_table_adds_up_and_brackets(fit):
    ec = expected_churn(fit)
    t = ec.table
    parts, total = t.filter(pl.col("scheme") != "all"), ec.total()
    assert parts["customers"].sum() == total["customers"] > 0
    assert parts["expected"].sum() == pytest.approx(total["expected"])
    assert parts["revenue_at_risk"].sum() == pytest.approx(total["revenue_at_risk"])
    assert (t["model_lo"] <= t["expected"] + 1e-9).all() and (t["expected"] <= t["model_hi"] + 1e-9).all()
    assert (t["count_lo"] <= t["model_lo"]).all() and (t["count_hi"] >= t["model_hi"]).all()
    assert set(parts["scheme"]) == set(MAIN_SCHEME.values())
    assert "Poisson-binomial" in ec.method


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_retention_list_is_ranked_and_exports_to_csv(fit):
    rl = retention_list(fit)
    assert rl.columns == ["priority", "customer_id", "scheme", "tier", "reason", "months_to_expiry",
                          "gap", "probability", "revenue", "expected_revenue_loss"]
    assert rl["expected_revenue_loss"].is_sorted(descending=True) and rl["priority"][0] == 1
    assert rl.height == expected_churn(fit).total()["customers"]
    top = rl.row(0, named=True)
    assert top["expected_revenue_loss"] == pytest.approx(top["probability"] * top["revenue"])
    back = pl.read_csv(io.StringIO(rl.write_csv()))
    assert back.height == rl.height and back["customer_id"].to_list() == rl["customer_id"].to_list()


# --- 4. drop effect -------------------------------------------------------------------------

def test_rerating_events_on_a_hand_built_panel():
    p = pl.concat([panel_of("down", [300.0] * 3 + [100.0] * 12, churned=[False] * 14 + [True]),
                   panel_of("keep", [320.0] * 15, churned=[False] * 15)])
    ev = rerating_events(p, tierlib.rate(p, "unicom_vip"), window=3)
    rows = {r["customer_id"]: r for r in ev.iter_rows(named=True)}
    d = rows["down"]
    assert d["month"] == dt.date(2025, 2, 1) and d["dropped"] and d["held"] == 2 and d["rank"] == 0
    assert d["x"] == pytest.approx((100 - 300) / 300)
    assert d["events"] == 1 and d["exposure"] == 2  # leaves at the end of March 2025
    k = rows["keep"]
    assert not k["dropped"] and k["x"] == pytest.approx(20 / 300)
    assert k["events"] == 0 and k["exposure"] == 2  # the panel ends in March 2025


def test_local_rate_recovers_a_log_linear_rate():
    x = np.linspace(-1, 1, 41)
    a, b = local_rate(x, 0.02 * np.exp(0.5 * x) * 1e4, np.full(x.size, 1e4), np.ones(x.size), slope=True)
    assert np.exp(a) == pytest.approx(0.02) and b == pytest.approx(0.5)


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
@pytest.mark.parametrize("knob", KNOBS)
def test_drop_effect_interval_covers_the_generator_knob(effects, knob):
    e = effects[knob]
    print(f"\nknob {knob}: {e.summary()}")
    assert e.ci[0] <= knob <= e.ci[1]
    assert e.first_stage == (1.0, 0.0)  # sharp: below the floor every re-rated customer drops


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_drop_effect_without_an_effect_is_not_significant(effects):
    e = effects[1.0]
    assert e.ci[0] <= 1.0 and e.p_value > 0.05


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_drop_effect_result_states_its_design(effects):
    e = effects[2.5]
    assert e.sensitivity["bandwidth"].to_list() == pytest.approx([0.15, 0.3, 0.6])
    assert any("Continuity" in a for a in e.assumptions) and any("manipulation" in a for a in e.assumptions)
    assert e.naive_ci[0] <= e.naive_ratio <= e.naive_ci[1]
    assert e.bins.height <= 20 and set(e.curve["side"]) == {"below: drops", "above: keeps"}


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_drop_effect_without_an_estimate_says_so_not_xnan(effects):
    """Too few leavers at the floor (the browser suite's 300 customers): no 'x nan (CI nan-nan), p = 1.000'."""
    from dataclasses import replace

    nan = float("nan")
    e = replace(effects[2.5], hazard_ratio=nan, ci=(nan, nan), p_value=nan)
    for lang, start in (("en", "No estimate of the tier drop's effect"), ("zh", "无法估计降级对")):
        text = e.summary(lang)
        assert text.startswith(start) and "nan" not in text.replace(f"x{e.naive_ratio:.2f}", ""), text


# --- charts ---------------------------------------------------------------------------------

@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_charts_are_built_from_small_tables_and_render(fit, effects):
    import vl_convert as vlc

    from tierlib.churn import charts

    assert charts.risk_band_table(fit, months=12).height < 5000
    built = [charts.risk_bands(fit, months=12), charts.calibration_chart(fit),
             charts.expected_by_tier(expected_churn(fit)), charts.discontinuity(effects[2.5])]
    for chart in built:
        spec = chart.to_json()
        assert len(spec) < 500_000  # aggregated data only
        assert "<svg" in vlc.vegalite_to_svg(spec)


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_churn_charts_speak_the_language_they_are_given_with_alt_text_and_tooltips(fit, effects):
    """Issue 13: lang="zh" puts every title and axis in Chinese; each chart says what it shows."""
    import json
    import re

    from tierlib.churn import charts

    cjk = re.compile(r"[\u4e00-\u9fff]")
    for lang in ("en", "zh"):
        built = [charts.risk_bands(fit, months=12, lang=lang), charts.calibration_chart(fit, lang=lang),
                 charts.expected_by_tier(expected_churn(fit), lang=lang), charts.discontinuity(effects[2.5], lang=lang)]
        for chart in built:
            spec = chart.to_dict()
            assert spec["description"].startswith(spec["title"] + ". ")
            axes = re.findall(r'"title": "([^"]+)"', json.dumps(spec, ensure_ascii=False))
            assert axes and all(bool(cjk.search(t)) == (lang == "zh") for t in axes), axes
            assert '"tooltip"' in json.dumps(spec)
    # too few leavers to estimate: the title says so, never "xnan (95% CI nan-nan)"
    none = dataclasses.replace(effects[2.5], hazard_ratio=float("nan"), ci=(float("nan"), float("nan")))
    title = charts.discontinuity(none).to_dict()["title"]
    assert "nan" not in title and "too few leavers" in title


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_churn_charts_order_tiers_from_the_table_and_share_the_chart_guard(fit):
    import tierlib.plots
    from tierlib.churn import charts

    assert charts._values is tierlib.plots._data
    ec = expected_churn(fit)
    # a reformed scheme key no loader knows: the order still comes from the table's rank
    renamed = dataclasses.replace(ec, table=ec.table.with_columns(
        scheme=pl.when(pl.col("scheme") == "unicom_vip").then(pl.lit("unicom_vip[gold=350]"))
        .otherwise(pl.col("scheme"))))
    spec = charts.expected_by_tier(renamed).to_dict()
    labels = spec["layer"][0]["encoding"]["y"]["sort"]
    # labels are the table's tier_label ("silver 银卡"): id first
    vip = [x.split(" · ")[1].split(" ")[0] for x in labels if x.startswith("unicom_vip[gold=350]")]
    assert any("银卡" in x or "金卡" in x for x in labels)
    ladder = tierlib.load_scheme("unicom_vip").ladder
    assert vip == sorted(vip, key=ladder.index) and len(vip) > 1


# --- 5. reform churn cost -------------------------------------------------------------------

@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_reform_churn_cost_from_a_simulation(synth, fit, effects):
    panel, _, _ = synth
    unicom = panel.filter(pl.col("carrier") == "unicom").drop("carrier")
    sim = simulate(unicom, "unicom_vip", {"thresholds.mobile.gold": 350})
    cost = reform_churn_cost(sim, unicom, churn=fit, effect=effects[2.5])
    s = cost.summary.row(0, named=True)
    assert s["downgraded"] == sim.summary["down"].item() > 0
    hr, lo, hi = cost.hazard_ratio
    p = cost.customers["p"]
    assert s["extra_churners"] == pytest.approx(((p * hr).clip(upper_bound=1) - p).sum())
    assert s["extra_lo"] <= s["extra_churners"] <= s["extra_hi"]
    assert s["cost_change"] == sim.summary["cost_change"].item() and s["no_probability"] == 0
    with pytest.raises(ValueError, match="k=3 months but the drop effect counts churn over window=2"):
        reform_churn_cost(sim, unicom, churn=fit, effect=dataclasses.replace(effects[2.5], window=2))
    same = reform_churn_cost(simulate(unicom, "unicom_vip", {}), unicom, churn=fit, effect=2.5)
    assert same.summary["downgraded"].item() == 0 and same.summary["extra_churners"].item() == 0


def test_reform_churn_cost_takes_one_kind_of_input_per_function(vip_ledger):
    p, base = vip_ledger
    new = tierlib.rate(p, tierlib.load_scheme("unicom_vip").with_values({"thresholds.mobile.silver": 170}))
    cost = reform_churn_cost_ledgers(base, new, churn=0.1, effect=2.0, panel=p, as_of="2025-02")
    assert cost.as_of == dt.date(2025, 2, 1)
    assert cost.summary["downgraded"].item() == 3  # c2 (160), c3 (165), c4 (166) fall below silver
    with pytest.raises(TypeError, match="reform_churn_cost_ledgers"):
        reform_churn_cost(base, new, churn=0.1, effect=2.0)
    sim = simulate(p, "unicom_vip", {"thresholds.mobile.silver": 170})
    with pytest.raises(TypeError, match="use reform_churn_cost"):
        reform_churn_cost_ledgers(sim, new, churn=0.1, effect=2.0)
    assert reform_churn_cost(sim, p, churn=0.1, effect=2.0).summary["downgraded"].item() == 3


# --- issue 9 items 7-9: the month is as_of; short panels say they cannot be trusted ---------

@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_the_month_parameter_is_as_of_everywhere(fit, vip_ledger):
    p, led = vip_ledger
    forms = ["2025-02", "2025-02-01", dt.date(2025, 2, 1), dt.datetime(2025, 2, 1)]
    first = near_drop(led, as_of=forms[0])
    assert first.height > 0 and all(near_drop(led, as_of=f).equals(first) for f in forms[1:])
    with pytest.raises(ValueError, match="as_of"):
        near_drop(led, as_of="Feb 2025")
    last = fit.periods["test"][1]
    assert expected_churn(fit, as_of=f"{last:%Y-%m}").as_of == last
    assert retention_list(fit, as_of=last).height == expected_churn(fit, as_of=last).total()["customers"]
    for call in (lambda: near_drop(led, month="2025-02-01"), lambda: expected_churn(fit, month=last),
                 lambda: retention_list(fit, month=last),
                 lambda: reform_churn_cost_ledgers(led, led, churn=0.1, effect=2.0, month=last)):
        with pytest.raises(TypeError, match="month"):
            call()


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_a_short_panel_fit_says_its_training_months_saw_no_rerating(short, fit):
    _, _, sf = short
    assert sf.periods["train"] == (dt.date(2023, 1, 1), dt.date(2023, 6, 1))
    for scheme in MAIN_SCHEME.values():
        assert any("evaluation model's training months 2023-01..2023-06 hold no re-rating of "
                   + scheme in w for w in sf.warnings), scheme
    assert "WARNING" in sf.summary()
    # 36 months: the scoring model saw every scheme re-rated; the evaluation model (trained to
    # 2024-06) never saw a GoTone yearly level re-rated: the first is February 2025
    assert fit.warnings == ("the evaluation model's training months 2023-01..2024-06 hold no re-rating "
                            "of mobile_gotone within their 3-month outcome windows: it never saw a "
                            "tier of that scheme re-rated, so its probabilities for tiers about to be "
                            "re-rated rest on the calibration alone; use a longer panel",)


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_expected_churn_warns_when_the_window_rerates_unlike_any_checked_month(short, fit):
    _, _, sf = short
    last = sf.scored["month"].max()  # 2024-12: the window holds GoTone's February re-rating
    ec = expected_churn(sf, as_of=last)
    gotone = [w for w in ec.warnings if w.startswith("mobile_gotone:")]
    assert len(gotone) == 1 and "re-rated within the 3-month outcome window" in gotone[0]
    assert "mobile_gotone:" in ec.summary()
    # a held-out month's window was checked: no such warning; the 36-month fit at its end warns too
    assert not [w for w in expected_churn(sf, as_of=sf.periods["test"][1]).warnings if "re-rated within" in w]
    assert any(w.startswith("mobile_gotone:") for w in expected_churn(fit).warnings)
    assert not [w for w in expected_churn(fit, as_of=fit.periods["test"][1]).warnings if "re-rated within" in w]


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_drop_effect_on_a_short_panel_says_it_has_too_few_events(short, effects):
    panel, ledger, _ = short
    e = drop_effect(panel, ledger, n_boot=50, random_state=1)
    assert min(e.events_below, e.events_above) < MIN_EVENTS == 100
    assert any(f"fewer than {MIN_EVENTS} on a side" in w for w in e.warnings)
    assert "WARNING" in e.summary()
    assert not [w for w in effects[2.5].warnings if "leavers" in w]  # 36 months x 30,000: enough


@pytest.mark.slow  # the session's synthetic panels of 25,000-30,000 customers
def test_model_interval_comes_from_refits_of_the_whole_model(fit):
    assert len(fit.refits) == N_REFIT
    # each refit trains on a customer bootstrap: other rows, other trees, other calibration
    assert len({r.train_rows_ for r in fit.refits} | {fit.model.train_rows_}) > 1
    ec = expected_churn(fit, level=0.9)
    nd = fit.scored.filter((pl.col("month") == ec.as_of) & (pl.col("expiring") | pl.col("near_floor")))
    X = nd.select(pl.col(c).cast(pl.Float64) for c in FEATURES).to_numpy()
    Z = nd.select(fit.adjust).to_numpy().astype(float)
    sums = np.array([r.calibrator_.predict(r.predict_raw(X), Z).sum() for r in fit.refits])
    sd = np.log(sums).std(ddof=1)
    t = ec.total()
    assert t["expected"] == pytest.approx(nd["p"].sum())
    assert t["model_lo"] == pytest.approx(t["expected"] * np.exp(-1.6448536 * sd), rel=1e-6)
    assert t["model_hi"] == pytest.approx(t["expected"] * np.exp(1.6448536 * sd), rel=1e-6)
    assert "refit" in ec.method and ec.n_refit == N_REFIT
