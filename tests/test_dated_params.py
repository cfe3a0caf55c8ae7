"""Every parameter is read at the month it applies to (issue 9, item 1).

The rule: a value dated from month d changes nothing before d. From d on it applies to each
row's own rating (window sums still reach back before d, as the rule says); a tier granted
before d keeps the validity it was granted with, so a dated change of a validity length or of
a threshold may show only when that validity ends.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib.domains import ladder_bounds
from tierlib.schemefiles import load_scheme
from tierlib.paths import sample_panel

KEYS = [*tierlib.schemes(), "telecom_club:high"]
MID = dt.date(2025, 1, 1)
COLS = ["tier", "assessed", "score", "valid_until", "status", "to_next", "to_keep", "window_complete", "flag"]


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    """400 sample customers, the enterprise key persons of every official rank, and customers
    given what the rarer rules read (club cards to migrate, more lines than a star allows)."""
    p = pl.read_parquet(sample_panel()).drop("carrier", strict=False)
    ids = p["customer_id"].unique().sort().head(400)
    ranked = (p.filter(pl.col("official_rank").is_not_null()).group_by("official_rank")
              .agg(pl.col("customer_id").unique().sort().head(15)).explode("customer_id")["customer_id"])
    p = p.filter(pl.col("customer_id").is_in(pl.concat([ids, ranked]).implode()))
    order = ids.to_frame().with_row_index("k")
    p = p.join(order, on="customer_id", how="left").with_columns(k=pl.col("k").fill_null(9999))
    k = pl.col("k")
    return p.with_columns(
        legacy_club_tier=pl.when(k < 30).then(pl.lit(["silver", "gold", "diamond"]).list.get(k % 3)),
        legacy_club_until=pl.when(k < 30).then(pl.lit(dt.date(2025, 6, 1))),
        n_fixed=pl.when(k.is_between(30, 39)).then(6).otherwise(pl.col("n_fixed")),
        n_broadband=pl.when(k.is_between(40, 49)).then(6).otherwise(pl.col("n_broadband")),
        n_itv=pl.when(k.is_between(50, 59)).then(6).otherwise(pl.col("n_itv")),
    ).drop("k").sort("customer_id", "month")


def _perturbed(s, path: str):
    """A different value of ``path`` inside its domain."""
    p = s.p(path)
    v = p.history[-1].value
    if isinstance(v, bool):
        return not v
    if path.endswith(("rating_month", "rerating_month")):
        return v % 12 + 1
    if isinstance(v, int) and path.endswith("_months"):
        return v + 1
    if isinstance(v, str):
        return next(t for t in s.tiers if t != v)
    if isinstance(v, (int, float)):
        below, above = ladder_bounds(s, path, MID)
        if (below, above) != (0.0, float("inf")):
            return (v + below) / 2 if v > below else (v + min(above, 2 * v + 100)) / 2
        return v * 2 if v else (-1 if path.endswith("suspension") else 10)
    if isinstance(v, list):
        if path.endswith("segments"):
            return ["personal", "enterprise"] if v == ["personal"] else ["personal"]
        if path.endswith("account_types"):
            return [x for x in v if x != "prepaid"] if "prepaid" in v else [*v, "prepaid"]
        if path.endswith("provinces"):
            return ["guangdong", "shandong", "henan"]
        return [x * 2 for x in v]
    raise AssertionError(f"no perturbation for {path} = {v!r}")


def _cases():
    for key in KEYS:
        s = load_scheme(key)
        for path, p in s.params.items():
            if not p.dated:
                yield key, path


@pytest.mark.parametrize("key, path", list(_cases()))
def test_a_value_dated_mid_panel_changes_no_row_before_its_month(panel, key, path):
    s = load_scheme(key)
    base = tierlib.rate(panel, s).select("month", *COLS)
    new = _perturbed(s, path)
    dated = tierlib.rate(panel, s.with_values({path: {"from": MID, "value": new}})).select("month", *COLS)
    before = pl.col("month") < MID
    assert dated.filter(before).equals(base.filter(before)), f"{path} from {MID} changed rows before it"
    # the same change dated after the panel's last month changes nothing at all
    late = tierlib.rate(panel, s.with_values({path: {"from": "2030-01-01", "value": new}})).select("month", *COLS)
    assert late.equals(base), f"{path} from 2030 changed the ledger"


def test_the_issue_example_changes_nothing_before_2030(panel):
    s = load_scheme("unicom_vip")
    reform = tierlib.apply_reform(s, {"validity_months": {"from": "2030-01-01", "value": 1}})
    assert tierlib.rate(panel, reform).drop("scheme").equals(tierlib.rate(panel, s).drop("scheme"))


@pytest.mark.parametrize("key, path, value", [
    ("unicom_vip", "window_months", 1), ("telecom_star", "window_months", 3), ("telecom_star", "points_per_yuan", 2),
    ("mobile_credit", "window_months", 3), ("telecom_club", "window_months", 3), ("unicom_vip", "validity_months", 1),
    ("mobile_gotone", "rating_month", 5), ("telecom_star", "thresholds.star3", 1200),
])
def test_a_dated_change_bites_from_its_month(panel, key, path, value):
    s = load_scheme(key)
    base = tierlib.rate(panel, s).select("month", *COLS)
    dated = tierlib.rate(panel, s.with_values({path: {"from": MID, "value": value}})).select("month", *COLS)
    changed = base.with_columns(x=pl.any_horizontal([pl.col(c).ne_missing(dated[c]) for c in COLS]))
    assert changed.filter(pl.col("x"))["month"].min() >= MID
    assert changed["x"].sum() > 0


#: (scheme key, path prefix) -> why no ledger column depends on it
INERT = {
    ("telecom_star", "points_multiplier."): "a benefit (points per yuan by star), for the benefit catalogue, not rating",
    ("telecom_star", "top_star_grant.from_star"): "read only when top_star_grant.required is on (off by default)",
    ("telecom_club", "high."): "read only in regional.high_provinces (none by default) or under all_high",
    ("telecom_club:high", "thresholds."): "the variant rates every personal customer on the high thresholds",
    ("telecom_club:high", "regional.high_provinces"): "the variant makes every province high",
}


@pytest.mark.parametrize("key, path", list(_cases()))
def test_every_parameter_changes_the_ledger_when_perturbed(panel, key, path):
    s = load_scheme(key)
    base = tierlib.rate(panel, s).select(COLS)
    new = tierlib.rate(panel, s.with_values({path: _perturbed(s, path)})).select(COLS)
    if any(key == k and path.startswith(prefix) for k, prefix in INERT):
        assert new.equals(base)
    else:
        assert not new.equals(base), f"{key}: perturbing {path} changed nothing"
