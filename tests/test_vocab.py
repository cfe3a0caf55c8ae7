"""The scheme vocabulary (issue 14): compiled built-in schemes, extends variants, the analyst's
folder, validation on load, the example schemes and the docs walk-through."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib.engine import LEDGER
from tierlib.params import SchemeError, load_scheme
from tierlib.paths import sample_panel

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "vocab_ledgers.parquet"


def _runs() -> dict[str, object]:
    """The ledgers of tests/fixtures/vocab_ledgers.parquet: the six schemes, a variant and
    reforms reaching the migration, the grant, dated values and the ladder's never_drops."""
    s = load_scheme("telecom_star")
    out: dict[str, object] = {k: k for k in [*tierlib.schemes(), "telecom_club:high"]}
    out |= {
        "star_migration": s,
        "star_grant": s.with_values({"top_star_grant.required": True}),
        "star_dated": s.with_values({"thresholds.star3": {"from": "2024-07-01", "value": 1800}}),
        "vip_dated": load_scheme("unicom_vip").with_values({"validity_months": {"from": "2024-03-01", "value": 6}}),
        "club_prov": load_scheme("telecom_club").with_values({"regional.high_provinces": ["GD", "广东", "guangdong"]}),
        "ladder_drops": load_scheme("unicom_ladder").with_values({"never_drops": False}),
        "gotone_asof": load_scheme("mobile_gotone", as_of="2024-06"),
    }
    return out


def _panel(customers: pl.Series) -> pl.DataFrame:
    p = pl.read_parquet(sample_panel()).filter(pl.col("customer_id").is_in(customers.implode()))
    h = pl.col("customer_id").hash(7) % 10  # migrated club members and provincial grants for some
    return p.with_columns(
        legacy_club_tier=pl.when(h == 1).then(pl.lit("gold")).when(h == 2).then(pl.lit("diamond"))
        .when(h == 3).then(pl.lit("silver")),
        legacy_club_until=pl.when(h.is_between(1, 3)).then(pl.lit(dt.date(2024, 6, 1))),
        provincial_grant=(h % 2 == 0),
    )


@pytest.mark.parametrize("run", list(_runs()))
def test_compiled_schemes_give_the_ledgers_of_the_deleted_rule_modules(run):
    """tests/fixtures/vocab_ledgers.parquet holds the ledgers the Python rule modules gave
    (commit 99b56fe) for every 200th customer of the bundled sample; the compiled rule must give
    them exactly: every column, every dtype."""
    want = pl.read_parquet(FIXTURE).filter(pl.col("run") == run).drop("run")
    assert want.height
    panel = _panel(want["customer_id"].unique())
    scheme = _runs()[run]
    if run in tierlib.schemes() or run == "telecom_club:high":
        panel = panel.drop("legacy_club_tier", "legacy_club_until", "provincial_grant")
    got = tierlib.rate(panel, scheme)
    assert got.columns == LEDGER
    assert got.schema == want.schema
    assert_frame_equal(got, want, check_exact=True, categorical_as_str=True)


def test_builtin_schemes_are_rules_not_modules():
    for sid in tierlib.schemes():
        s = load_scheme(sid)
        assert s.rule is not None and s.module.__name__ == "tierlib.vocab.compile"
    assert not list((ROOT / "tierlib" / "rules").glob("[!_]*.py"))
