"""Extra panel columns never change a result; implausible inputs are refused (issue 9, items 4 and 5)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import tierlib
from tierlib import engine
from tierlib.panel import COLUMNS, PanelError, validate
MAX_MONEY = 1e9
from tierlib.schemefiles import load_scheme
from tierlib.paths import sample_panel
from tierlib.rating import _rate_validated

D = dt.date
SCHEMES = [*tierlib.schemes(), "telecom_club:high"]


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    p = pl.read_parquet(sample_panel())
    ids = p["customer_id"].unique().sort().head(150)
    return p.filter(pl.col("customer_id").is_in(ids.implode())).drop("carrier", strict=False)


_POISON = {pl.Boolean: True, pl.Date: D(2099, 1, 1), pl.Float64: 1e6, pl.Float32: 1e6, pl.String: "x"}


def _poison(dtype: pl.DataType):
    if dtype.is_integer():
        return pl.lit(5, dtype=dtype)
    if dtype in _POISON:
        return pl.lit(_POISON[dtype], dtype=dtype)
    return pl.lit("x").cast(dtype) if isinstance(dtype, (pl.Categorical, pl.Enum)) else pl.lit(None, dtype=dtype)


@pytest.mark.parametrize("key", SCHEMES)
def test_an_extra_column_named_like_any_engine_column_changes_nothing(small, key):
    s = load_scheme(key)
    # every column the engine makes on its way to this scheme's ledger (working columns,
    # score components, ledger columns), as an extra panel column with a value that would bite
    internals = _rate_validated(validate(small).lazy(), s, keep_internals=True).collect()
    extra = {c: dtype for c, dtype in internals.schema.items() if c not in COLUMNS}
    assert {"valid_until", "_held", "_assessed", "tenure", "score"} <= set(extra)
    poisoned = small.with_columns(_poison(dtype).alias(c) for c, dtype in extra.items())
    assert tierlib.rate(poisoned, s).equals(tierlib.rate(small, s))
    assert tierlib.rate(poisoned.lazy(), s).collect().equals(tierlib.rate(small, s))


def test_extra_engine_index_columns_do_not_fool_explain(small):
    cid = small["customer_id"][0]
    poisoned = small.with_columns(_i=pl.lit(0, pl.Int32), _tj=pl.lit(0, pl.Int32), _t0=pl.lit(0, pl.Int32))
    a = tierlib.explain(poisoned, "telecom_star", customer_id=cid, as_of="2025-06")
    b = tierlib.explain(small, "telecom_star", customer_id=cid, as_of="2025-06")
    assert a.row == b.row and str(a) == str(b)


def test_extra_columns_do_not_pass_through_to_the_ledger(small):
    led = tierlib.rate(small.with_columns(contract_end=pl.lit(D(2030, 1, 1))), "unicom_vip")
    assert led.columns == engine.LEDGER


def _one(**cols) -> pl.DataFrame:
    months = [D(2024, m, 1) for m in range(1, 4)]
    return pl.DataFrame({"customer_id": ["c1"] * 3 + ["c2"] * 3, "month": months * 2,
                         "join_month": D(2023, 1, 1), "billed": 100.0, **cols})


def test_money_beyond_the_plausible_maximum_is_refused():
    p = _one().with_columns(billed=pl.when(pl.col("customer_id") == "c2").then(1e308).otherwise(100.0))
    with pytest.raises(PanelError) as e:
        tierlib.rate(p, "telecom_star")
    assert e.value.column == "billed" and e.value.customers == ["c2"] and f"{MAX_MONEY:,.0f}" in str(e.value)
    with pytest.raises(PanelError, match="column 'org_revenue': money above"):
        tierlib.rate(_one(org_revenue=[1e12] * 6, segment=["enterprise"] * 6), "telecom_club")
    with pytest.raises(PanelError, match="column 'plan_fee': money above"):  # integer money too
        validate(_one(plan_fee=[10**12] * 6))
    assert validate(_one(billed=[MAX_MONEY] * 6)).height == 6  # the bound itself is allowed


def test_counts_beyond_32_bits_are_a_panel_error_not_a_polars_error():
    with pytest.raises(PanelError) as e:
        tierlib.rate(_one(suspensions=[0, 0, 2**40, 0, 0, 0]), "telecom_star")
    assert e.value.column == "suspensions" and e.value.customers == ["c1"] and "32 bits" in str(e.value)


def test_legacy_club_tier_without_its_end_month_is_named():
    with pytest.raises(PanelError) as e:  # crashed with an out-of-bounds gather for 2+ customers
        tierlib.rate(_one(legacy_club_tier=["gold"] * 6), "telecom_star")
    assert e.value.column == "legacy_club_until" and e.value.customers == ["c1", "c2"]
    half = _one(legacy_club_tier=["gold"] * 6, legacy_club_until=[D(2024, 6, 1)] * 3 + [None] * 3)
    with pytest.raises(PanelError) as e:
        tierlib.rate(half, "telecom_star")
    assert e.value.customers == ["c2"]
    ok = _one(legacy_club_tier=["gold"] * 6, legacy_club_until=[D(2024, 6, 1)] * 6)
    assert tierlib.rate(ok, "telecom_star")["tier"].cast(pl.String).to_list()[:1] == ["star5"]
