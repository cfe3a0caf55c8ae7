"""Property tests on random valid panels (tests/strategies.py), fixed seeds.

- the engine equals the row-by-row reference (tests/reference.py) on every ledger column;
- more spend never lowers ``assessed``;
- during validity the tier never drops while the customer stays eligible;
- the ledger keeps the panel's rows, keys and the order ``validate`` returns;
- eager and lazy ``rate`` agree.

The invariants run over ``tierlib.schemes()``, so a new scheme is checked for free.
"""

from __future__ import annotations

import math
import os

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from tests.golden import plain_values
from tests.reference import LEDGER_COLUMNS, RATERS, reference_rate
from tests.strategies import panels, row_orders

import tierlib  # a broken import fails the suite, never skips it

SCHEMES = tierlib.schemes()
#: the engine-vs-reference check also covers the variants the reference knows
RATED = sorted(set(SCHEMES) | set(RATERS)) + ["telecom_club:high"]

# Fixed seeds, no example database. Shrinking re-rates a panel hundreds of times, so it is
# off unless TIERLIB_SHRINK=1 (set it to get a minimal panel when a property fails).
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
if os.environ.get("TIERLIB_SHRINK") == "1":
    PHASES.append(Phase.shrink)
# TIERLIB_EXAMPLES=10 multiplies every example count (a deeper run, same seeds).
SCALE = float(os.environ.get("TIERLIB_EXAMPLES", "1"))


def n(k: int) -> int:
    return max(1, round(k * SCALE))


FIXED = dict(derandomize=True, database=None, deadline=None, print_blob=True, phases=PHASES,
             suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KEYS = ["customer_id", "month"]


def ledger_differences(engine: pl.DataFrame, ref: pl.DataFrame, *, limit: int = 12) -> list[str]:
    """Cell-by-cell differences (floats with tolerance), rows matched on (customer_id, month)."""
    from tierlib.engine import LEDGER

    if engine.columns != LEDGER:
        return [f"columns {engine.columns} != {LEDGER}"]
    if engine.height != ref.height:
        return [f"{engine.height} rows != reference {ref.height}"]
    e, r = engine.sort(KEYS), ref.sort(KEYS)
    out = []
    for col in LEDGER_COLUMNS:
        for k, (a, b) in enumerate(zip(plain_values(e[col]), plain_values(r[col]))):
            if isinstance(a, float) and isinstance(b, float):
                same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
            else:
                same = a == b and (a is None) == (b is None)
            if not same:
                out.append(f"{col} at customer {e['customer_id'][k]!r} month {e['month'][k]}: "
                           f"engine {a!r}, reference {b!r}")
                if len(out) >= limit:
                    return out
    return out


def ladder(scheme: str) -> tuple[str, ...]:
    return ("none", *tierlib.load_scheme(scheme).tiers)


def arrears_streaks(panel: pl.DataFrame) -> dict[tuple, int]:
    """(customer_id, month) -> consecutive months in arrears ending the month before."""
    out, streak, last = {}, 0, None
    rows = tierlib.validate(panel).sort(KEYS).select(*KEYS, "in_arrears").iter_rows()
    for cid, month, arrears in rows:
        if cid != last:
            streak, last = 0, cid
        out[(cid, month)] = streak
        streak = streak + 1 if arrears else 0
    return out


# ---------------------------------------------------------------------------------------


def test_every_registered_scheme_has_a_reference_implementation():
    """A scheme added to tierlib/rules without a row-by-row reference fails here, not skipped."""
    missing = sorted(set(SCHEMES) - set(RATERS))
    assert not missing, f"tests/reference.py has no implementation of {', '.join(missing)}: write one"


@pytest.mark.parametrize("scheme", RATED)
@settings(max_examples=n(25), **FIXED)
@given(panel=panels())
def test_engine_equals_reference(scheme, panel):
    assert scheme.split(":")[0] in RATERS, f"tests/reference.py has no implementation of {scheme}: write one"
    diffs = ledger_differences(tierlib.rate(panel, scheme), reference_rate(panel, scheme))
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("scheme", SCHEMES)
@settings(max_examples=n(8), **FIXED)
@given(panel=panels(max_customers=3), data=st.data())
def test_more_spend_never_lowers_assessed(scheme, panel, data):
    cid = data.draw(st.sampled_from(sorted(set(panel["customer_id"].to_list()))), label="customer")
    factor = data.draw(st.sampled_from([1.0, 1.01, 1.5, 2.0, 10.0]), label="factor")
    scaled = [c for c in ("billed", "paid") if c in panel.columns]
    richer = panel.with_columns(
        pl.when(pl.col("customer_id") == cid).then(pl.col(c) * factor).otherwise(pl.col(c))
        for c in scaled
    )
    order = {t: k for k, t in enumerate(ladder(scheme))}
    before = tierlib.rate(panel, scheme).sort(KEYS)
    after = tierlib.rate(richer, scheme).sort(KEYS)
    for cid_, month, a, b in zip(before["customer_id"], before["month"],
                                 plain_values(before["assessed"]), plain_values(after["assessed"])):
        assert order[b] >= order[a], f"{cid_} {month}: assessed {a} -> {b} with spend x{factor}"


#: rules that may end a tier during validity although the customer stays eligible
CANCELS = {
    # RULES.md §3.2: arrears in more than 3 consecutive months -> none
    "telecom_club": lambda streak: streak > 3,
}
#: schemes whose tier never drops while eligible, without a valid_until (RULES.md §3.4)
LADDERS_WITHOUT_END = {"unicom_ladder"}


@pytest.mark.parametrize("scheme", SCHEMES)
@settings(max_examples=n(10), **FIXED)
@given(panel=panels())
def test_tier_never_drops_during_validity(scheme, panel):
    ledger = tierlib.rate(panel, scheme).sort(KEYS)
    streaks = arrears_streaks(panel)
    cancels = CANCELS.get(scheme.split(":")[0], lambda streak: False)
    rows = list(zip(ledger["customer_id"], ledger["month"], ledger["rank"], ledger["valid_until"],
                    ledger["eligible"]))
    for (c0, m0, r0, until, _), (c1, m1, r1, _, eligible1) in zip(rows, rows[1:]):
        if c0 != c1 or not eligible1 or cancels(streaks[(c1, m1)]):
            continue
        held = (until is not None and until >= m1) or (scheme in LADDERS_WITHOUT_END)
        if held:
            assert r1 >= r0, f"{c1}: rank {r0} in {m0} (valid until {until}) -> {r1} in {m1}"


@pytest.mark.parametrize("scheme", SCHEMES)
@settings(max_examples=n(6), **FIXED)
@given(panel=panels())
def test_rows_and_keys_follow_validate(scheme, panel):
    ledger = tierlib.rate(panel, scheme)
    validated = tierlib.validate(panel)
    assert ledger.height == panel.height == validated.height
    assert_frame_equal(ledger.select(KEYS), validated.select(KEYS))
    assert ledger["scheme"].cast(pl.String).unique().to_list() == [scheme]


@pytest.mark.parametrize("scheme", SCHEMES)
@settings(max_examples=n(8), **FIXED)
@given(panel=panels(max_customers=3), data=st.data())
def test_row_order_does_not_change_the_ledger(scheme, panel, data):
    """Rating does not depend on the order of the panel's rows (RULES.md §1 keys rows by
    (customer_id, month)): the panel as drawn and a re-ordered copy give the same ledger."""
    other = data.draw(row_orders(panel.rows(named=True)), label="reordered")
    reordered = pl.DataFrame(other, schema=panel.schema)
    assert_frame_equal(tierlib.rate(panel, scheme).sort(KEYS),
                       tierlib.rate(reordered, scheme).sort(KEYS))


@pytest.mark.parametrize("scheme", SCHEMES)
@settings(max_examples=n(5), **FIXED)
@given(panel=panels())
def test_eager_and_lazy_agree(scheme, panel):
    lazy = tierlib.rate(panel.lazy(), scheme)
    assert isinstance(lazy, pl.LazyFrame)
    assert_frame_equal(lazy.collect(), tierlib.rate(panel, scheme))


LEDGER_DTYPES = {
    "month": pl.Date, "scheme": pl.Categorical, "eligible": pl.Boolean, "score": pl.Float64,
    "assessed": pl.Categorical, "tier": pl.Categorical, "rank": pl.Int8, "valid_until": pl.Date,
    "status": pl.Categorical, "next_tier": pl.Categorical, "to_next": pl.Float64,
    "to_keep": pl.Float64, "window_complete": pl.Boolean, "flag": pl.String,
}


@pytest.mark.parametrize("scheme", SCHEMES)
@settings(max_examples=n(3), **FIXED)
@given(panel=panels(max_customers=2))
def test_ledger_columns_and_dtypes(scheme, panel):
    """CONTRACT.md "Ledger": the columns, in order, with their dtypes; rank indexes tier."""
    ledger = tierlib.rate(panel, scheme)
    from tierlib.engine import LEDGER

    # the reference computes the columns of LEDGER_COLUMNS; the three derived ledger columns are
    # checked here against their definitions (docs/CONTRACT.md), rerated in test_foundation
    assert ledger.columns == LEDGER and set(LEDGER_COLUMNS) <= set(LEDGER)
    assert ledger.schema["assessed_rank"] == pl.Int8 and ledger.schema["floor"] == pl.Float64
    assert ledger.schema["rerated"] == pl.Boolean
    lad = ladder(scheme)
    assert [lad[r] for r in ledger["assessed_rank"]] == plain_values(ledger["assessed"])
    held = ledger.filter(pl.col("rank") > 0)
    assert held.select((pl.col("floor") - (pl.col("score") - pl.col("to_keep"))).abs().max()).item() in (None, 0.0) \
        or held.select((pl.col("floor") - (pl.col("score") - pl.col("to_keep"))).abs().max()).item() < 1e-6
    assert ledger.schema["customer_id"] == panel.schema["customer_id"]
    for col, dtype in LEDGER_DTYPES.items():
        assert ledger.schema[col] == dtype, f"{col}: {ledger.schema[col]} != {dtype}"
    names = ladder(scheme)
    assert [names[r] for r in ledger["rank"]] == plain_values(ledger["tier"])
    status = plain_values(ledger["status"])
    assert all((s == "none") == (t == "none") for s, t in zip(status, plain_values(ledger["tier"])))
