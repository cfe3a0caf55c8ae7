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
from tierlib.params import SchemeError
from tierlib.schemefiles import load_scheme
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


# --- the example schemes (RULES.md §4.1): YAML alone, golden cases, example panels -------------

import yaml  # noqa: E402

from tests.golden import case_panel, check_case  # noqa: E402

EXAMPLES = ROOT / "examples" / "schemes"
EXAMPLE_CASES = [(p.stem, case) for p in sorted((EXAMPLES / "cases").glob("*.yaml"))
                 for case in yaml.safe_load(p.read_text(encoding="utf-8"))["cases"]]


def test_every_example_scheme_has_five_golden_cases():
    stems = [stem for stem, _ in EXAMPLE_CASES]
    assert {p.stem for p in EXAMPLES.glob("example_*.yaml")} == set(stems)
    assert all(stems.count(s) >= 5 for s in set(stems))


@pytest.mark.parametrize(("stem", "case"), EXAMPLE_CASES, ids=[f"{s}::{c['name']}" for s, c in EXAMPLE_CASES])
def test_example_scheme_reproduces_its_golden_case(stem, case, monkeypatch):
    monkeypatch.chdir(ROOT)  # the case file names its scheme by its path in the repository
    doc = yaml.safe_load((EXAMPLES / "cases" / f"{stem}.yaml").read_text(encoding="utf-8"))
    problems = check_case(tierlib.rate(case_panel(case), doc["scheme"]), case)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", ["example_icbc_star", "example_supermarket_abcd"])
def test_example_panel_is_rated_on_every_tier(stem):
    from tierlib.io import read_panel

    s = load_scheme(EXAMPLES / f"{stem}.yaml")
    ledger = tierlib.rate(read_panel(EXAMPLES / f"{stem}_panel.csv"), s)
    last = ledger.filter(pl.col("month") == ledger["month"].max())
    assert set(last["tier"].cast(pl.String)) == set(s.tiers)


def test_icbc_card_marks_the_levels_the_seed_does_not_give():
    card = load_scheme(EXAMPLES / "example_icbc_star.yaml").card()
    # RULES.md §4.1: star6 starts at the seed's upper bound of five stars; star7 has no range
    assert "thresholds.star7 = 50000  [ASSUMED]" in card and "thresholds.window_months" not in card
    assert "thresholds.star6 = 10000  [seed 000]" in card and "thresholds.star5 = 2000  [seed 000]" in card
    assert "window_months = 3  [ASSUMED]" in card


def test_a_declared_column_is_required_and_typed():
    from tierlib.panel import PanelError

    s = load_scheme(EXAMPLES / "example_icbc_star.yaml")
    p = pl.DataFrame({"customer_id": "c1", "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
                      "join_month": dt.date(2024, 1, 1), "billed": 0.0})
    with pytest.raises(PanelError, match="column 'star_points': required column is missing"):
        tierlib.rate(p, s)
    with pytest.raises(PanelError, match="column 'star_points': wrong type Boolean"):
        tierlib.rate(p.with_columns(star_points=True), s)
    # an undeclared column never enters the engine (docs/CONTRACT.md): unicom_vip ignores it
    assert_frame_equal(tierlib.rate(p.with_columns(star_points=9.0), "unicom_vip"), tierlib.rate(p, "unicom_vip"))


# --- extends: a province variant without Python --------------------------------------------------

GD = EXAMPLES / "unicom_vip_gd.yaml"


def test_variant_changes_only_its_values_with_their_internal_source():
    gd, vip = load_scheme(GD), load_scheme("unicom_vip")
    assert gd.key == "unicom_vip_gd" and gd.lineage == ("unicom_vip",)
    changed = {p for p in vip.params if gd.params[p] != vip.params[p]}
    assert changed == {"thresholds.mobile.silver", "thresholds.mobile.gold"}
    assert gd.p("thresholds.mobile.gold").history[0].source == "internal"
    card = gd.card()
    assert "Extends: unicom_vip" in card and "thresholds.mobile.gold = 400  [internal] 省分公司" in card


def test_variant_rates_like_the_same_reform_of_its_base():
    p = pl.read_parquet(sample_panel()).head(20_000)
    reform = load_scheme("unicom_vip").with_values(
        {"thresholds.mobile.silver": 200, "thresholds.mobile.gold": 400}, name="unicom_vip_gd")
    assert_frame_equal(tierlib.rate(p, GD), tierlib.rate(p, reform))


def test_a_province_copy_with_its_own_id_loads_and_rates(tmp_path):
    """Issue 14: a copy of a scheme file with a new id failed with ModuleNotFoundError."""
    doc = yaml.safe_load((ROOT / "tierlib" / "rules" / "unicom_vip.yaml").read_text(encoding="utf-8"))
    doc["id"] = "unicom_vip_copy"
    f = tmp_path / "unicom_vip_copy.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    p = pl.read_parquet(sample_panel()).head(5_000)
    assert_frame_equal(tierlib.rate(p, f), tierlib.rate(p, load_scheme("unicom_vip").renamed("unicom_vip_copy")))


def _write(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


def test_variant_of_an_unknown_parameter_names_file_and_path(tmp_path):
    f = _write(tmp_path, "v.yaml", "id: v\nextends: unicom_vip\nparameters:\n  thresholds:\n    mobile:\n"
                                  "      gold_card: {value: 1, source: internal}\n")
    with pytest.raises(SchemeError, match=r"v\.yaml: parameters\.thresholds\.mobile\.gold_card: 'unicom_vip' "
                                          r"has no parameter"):
        load_scheme(f)


def test_extends_by_path_and_a_cycle(tmp_path):
    a = _write(tmp_path, "a.yaml", "id: a\nextends: b.yaml\n")
    _write(tmp_path, "b.yaml", "id: b\nextends: a.yaml\n")
    with pytest.raises(SchemeError, match="a cycle"):
        load_scheme(a)
    c = _write(tmp_path, "c.yaml", f"id: c\nextends: {GD}\nparameters:\n  validity_months: "
                                  "{value: 6, source: internal, reference: circular 7}\n")
    s = load_scheme(c)
    assert s.lineage == ("unicom_vip_gd", "unicom_vip") and s.value("validity_months") == 6
    assert s.value("thresholds.mobile.gold") == 400


def test_user_scheme_folder_is_registered_beside_the_builtins(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "unicom_vip_gd.yaml").write_text(GD.read_text(encoding="utf-8").replace(
        "extends: unicom_vip", "extends: unicom_vip"), encoding="utf-8")
    monkeypatch.setenv("TIERLIB_SCHEMES", str(folder))
    assert "unicom_vip_gd" in tierlib.schemes() and "unicom_vip" in tierlib.schemes()
    assert load_scheme("unicom_vip_gd").value("thresholds.mobile.gold") == 400
    (folder / "unicom_vip.yaml").write_text("id: unicom_vip\nextends: unicom_vip_gd\n", encoding="utf-8")
    with pytest.raises(SchemeError, match="scheme id 'unicom_vip' is already registered"):
        tierlib.schemes()
    monkeypatch.setenv("TIERLIB_SCHEMES", str(tmp_path / "nowhere"))
    with pytest.raises(SchemeError, match="TIERLIB_SCHEMES: .*nowhere is not a folder"):
        tierlib.schemes()


# --- validation on load: file, path, what was expected; one CLI line --------------------------

BAD = [
    ("thresholds out of order",
     "id: v\nextends: unicom_vip\nparameters:\n  thresholds.mobile.gold: {value: 140, source: internal}\n",
     r"v\.yaml: thresholds\.mobile\.gold: 140 is below thresholds\.mobile\.silver 150"),
    ("a source of no known kind",
     "id: v\nextends: unicom_vip\nparameters:\n  validity_months: {value: 6, source: circular 12}\n",
     r"v\.yaml\.parameters\.validity_months\.source: 'circular 12' is not a source starting with seed, public, internal"),
    ("a holding policy misspelt",
     "id: v\nextends: unicom_vip\nholding: validty\n",
     r"v\.yaml\.holding: 'validty' is not one of none, validity, until_rerating, ladder"),
    ("an unknown rule key",
     "id: v\nextends: unicom_vip\nrule:\n  components: {spend: {mean: billed, window: window_months}}\n  treshold: x\n",
     r"v\.yaml\.rule: unknown key\(s\) \['treshold'\]"),
    ("a parameter the rule names that is not there",
     "id: v\nextends: unicom_vip\nrule:\n  components: {spend: {mean: billed, window: window_month}}\n",
     r"v\.yaml: rule\.components\.spend\.window: no parameter 'window_month'"),
    ("a column that is not a panel column",
     "id: v\nextends: unicom_vip\nrule:\n  components: {spend: {mean: bill, window: window_months}}\n",
     r"v\.yaml: rule\.components\.spend\.mean: 'bill' is not a panel column"),
    ("a component with two quantities",
     "id: v\nextends: unicom_vip\nrule:\n  components: {spend: {mean: billed, sum: billed, window: window_months}}\n",
     r"v\.yaml: rule\.components\.spend: give exactly one of sum, mean"),
    ("a window that is not whole months",
     "id: v\nextends: unicom_vip\nparameters:\n  window_months: {value: 2.5, source: internal}\n",
     r"v\.yaml: window_months: 2\.5 is not a whole number of months >= 1"),
    ("neither a rule nor a module",
     "id: v\nladder: [none, a]\nholding: none\nparameters:\n  thresholds.a: {value: 1, source: assumed}\n",
     r"v\.yaml: no 'rule:' section"),
]


@pytest.mark.parametrize(("what", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_scheme_file_is_refused_naming_file_path_and_expectation(tmp_path, what, text, message):
    with pytest.raises(SchemeError, match=message):
        load_scheme(_write(tmp_path, "v.yaml", text))


def test_cli_error_on_a_bad_scheme_file_is_one_line(tmp_path, capsys):
    from tierlib.cli import main

    f = _write(tmp_path, "v.yaml", BAD[0][1])
    assert main(["card", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "thresholds.mobile.gold: 140 is below thresholds.mobile.silver 150" in err


# --- words of the vocabulary no built-in scheme uses -------------------------------------------

PRODUCT = """
id: shop
ladder: [none, a, b]
holding: none
parameters:
  window_months: {value: 2, source: assumed}
  per_suspension: {value: -30, source: assumed}
  max_penalty: {value: -50, source: assumed}
  brand_factor:
    gold: {value: 2, source: assumed}
    default: {value: 1, source: assumed}
  thresholds:
    a: {value: 100, source: internal, reference: circular 1}
    b: {value: 300, source: internal, reference: circular 1}
rule:
  components:
    spend: {sum: billed, window: window_months}
    factor: {lookup: brand, points: brand_factor}
    penalty: {sum: suspensions, window: window_months, times: per_suspension, clip: {lower: max_penalty}}
  score: {product: [spend, factor]}
"""


def test_a_product_score_a_lookup_and_a_capped_penalty(tmp_path):
    """By hand: score = (billed of the last 2 months) x (2 for brand gold, else 1); the penalty
    (-30 a suspension, at most -50 in all) is a component outside the score."""
    s = load_scheme(_write(tmp_path, "shop.yaml", PRODUCT))
    p = pl.DataFrame({"customer_id": ["g"] * 3 + ["o"] * 3,
                      "month": [dt.date(2024, m, 1) for m in (1, 2, 3)] * 2,
                      "join_month": dt.date(2024, 1, 1), "billed": [60.0, 100.0, 0.0] * 2,
                      "brand": ["gold"] * 3 + ["other"] * 3, "suspensions": [1, 2, 0] * 2})
    ledger = tierlib.rate(p, s)
    assert ledger["score"].to_list() == [0.0, 120.0, 320.0, 0.0, 60.0, 160.0]
    assert ledger["tier"].cast(pl.String).to_list() == ["none", "a", "b", "none", "none", "a"]
    from tierlib.rating import _rate_validated
    from tierlib.panel import validate

    inner = _rate_validated(validate(p).lazy(), s, keep_internals=True).collect()
    assert inner["c_penalty"].to_list() == [0.0, -30.0, -50.0, 0.0, -30.0, -50.0]


# --- the example schemes against an obvious row-by-row reading of RULES.md §4.1 ----------------

from hypothesis import given, settings  # noqa: E402

from tests.reference import money, t_of, window  # noqa: E402
from tests.strategies import panels  # noqa: E402
from tests.test_properties import FIXED  # noqa: E402


def _reference_tiers(panel: pl.DataFrame, s) -> list[tuple]:
    """(customer_id, month, score, tier) of every row, rated row by row (RULES.md §4.1)."""
    icbc = s.id == "example_icbc_star"
    n = s.value("window_months")
    out = []
    rows = panel.sort("customer_id", "month").to_dicts()
    for cid in dict.fromkeys(r["customer_id"] for r in rows):
        hist = [r for r in rows if r["customer_id"] == cid]
        for i, r in enumerate(hist):
            w = window(hist, i, n)
            col = "star_points" if icbc else "billed"
            if icbc:  # the mean of the months available; none when there are none
                score = money(sum(x[col] for x in w)) / len(w) if w else None
            else:
                score = money(sum(x[col] for x in w)) * s.value("points_per_yuan")
            tier = "none"
            if score is not None and t_of(r["month"]) > t_of(r["join_month"]):
                for t in s.tiers:
                    thr = s.value(f"thresholds.{t}")
                    if (score > thr) if (icbc and t == "quasi") else (score >= thr):
                        tier = t
            out.append((cid, r["month"], score, tier))
    return out


@pytest.mark.parametrize("stem", ["example_icbc_star", "example_supermarket_abcd"])
@settings(max_examples=25, **FIXED)
@given(panel=panels())
def test_example_scheme_equals_its_row_by_row_reading(stem, panel):
    s = load_scheme(EXAMPLES / f"{stem}.yaml")
    panel = panel.with_columns(star_points=pl.col("billed") * 7)
    got = tierlib.rate(panel, s).sort("customer_id", "month")
    want = _reference_tiers(panel, s)
    assert got["tier"].cast(pl.String).to_list() == [w[3] for w in want]
    for a, (_, _, b, _) in zip(got["score"].to_list(), want):
        assert (a is None and b is None) or abs(a - b) <= 1e-6 * max(1.0, abs(b))
    lazy = tierlib.rate(panel.lazy(), s).collect().sort("customer_id", "month")
    assert_frame_equal(got, lazy)


def test_module_stays_possible_for_what_the_vocabulary_cannot_say(tmp_path, monkeypatch):
    """A scheme file without a rule names a module defining prepare(lf, s): here the deleted
    unicom_vip module, written in Python again, must rate like the compiled unicom_vip."""
    pkg = tmp_path / "myrules"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "vip.py").write_text('''
import polars as pl
from tierlib.engine import by_key, wmean, window_complete


def prepare(lf, s):
    n = s.value("window_months")
    line = pl.when(pl.col("line") == "mobile").then(pl.lit("mobile")).otherwise(pl.lit("fixed"))
    return lf.with_columns(
        ok_account_type=pl.col("account_type").cast(pl.String).is_in(s.value("eligible_account_types")),
        c_spend=wmean("billed", n), window_complete=window_complete(n), _win_from=pl.col("_t") - n,
        *[by_key(s, "thresholds", line, t, ("mobile", "fixed")).alias(f"_thr{k}") for k, t in enumerate(s.tiers, 1)],
    ).with_columns(eligible=pl.col("ok_account_type"), score=pl.col("c_spend"))
''', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = yaml.safe_load((ROOT / "tierlib" / "rules" / "unicom_vip.yaml").read_text(encoding="utf-8"))
    del doc["rule"]
    doc.update(id="vip_module", module="myrules.vip")
    f = _write(tmp_path, "vip_module.yaml", yaml.safe_dump(doc, allow_unicode=True))
    p = pl.read_parquet(sample_panel()).head(5_000)
    assert_frame_equal(tierlib.rate(p, f), tierlib.rate(p, load_scheme("unicom_vip").renamed("vip_module")))
    doc["module"] = "myrules.missing"
    with pytest.raises(SchemeError, match="no rule module 'myrules.missing'"):
        tierlib.rate(p, _write(tmp_path, "vip_module.yaml", yaml.safe_dump(doc, allow_unicode=True)))


def test_explain_says_an_exclusive_threshold():
    p = pl.DataFrame({"customer_id": "c1", "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
                      "join_month": dt.date(2024, 1, 1), "billed": 0.0, "star_points": 0.0})
    e = tierlib.explain(p, load_scheme(EXAMPLES / "example_icbc_star.yaml"), customer_id="c1", as_of="2024-02")
    assert "quasi >  0: not met" in str(e) and "star3 >= 50: not met" in str(e)


def test_a_declared_money_column_is_checked_like_the_contracts():
    from tierlib.panel import PanelError

    s = load_scheme(EXAMPLES / "example_icbc_star.yaml")
    p = pl.DataFrame({"customer_id": ["a", "a", "b", "b"], "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)] * 2,
                      "join_month": dt.date(2024, 1, 1), "billed": 0.0, "star_points": [1.0, 2.0, -5.0, float("nan")]})
    with pytest.raises(PanelError, match=r"column 'star_points': negative, not finite .* \(2 rows\); customer_id b"):
        tierlib.rate(p, s)
    with pytest.raises(PanelError, match="column 'star_points'"):
        tierlib.rate(p.lazy(), s).collect()
    assert tierlib.rate(p.head(2), s)["score"].to_list() == [None, 1.0]
    # a CSV's text is read strictly as numbers
    assert tierlib.rate(p.head(2).with_columns(pl.col("star_points").cast(pl.String)), s)["score"].to_list() == [None, 1.0]


def test_a_variant_keeps_the_benefits_of_the_scheme_it_extends():
    from tierlib.benefits import catalogues_for

    cats = catalogues_for({"gd": load_scheme(GD), "icbc": load_scheme(EXAMPLES / "example_icbc_star.yaml")})
    assert cats["gd"].scheme == "unicom_vip" and cats["gd"].entitlements
    assert not cats["icbc"].entitlements  # no catalogue: cost 0, said in its description
