"""Issue 12 item 7: tierlib compare | simulate | sweep write workbooks whose numbers are the
Python results; user mistakes are one line on stderr with exit 2; progress on request."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest

import tierlib
from tierlib.cli import main
from tierlib.reforms import compare_reforms, load_reform, sweep

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    from tierlib.synth import make_panel

    d = tmp_path_factory.mktemp("decide")
    panel = make_panel(1500, 30, seed=5, carrier_shares={"unicom": 1.0})[0]
    panel.write_parquet(d / "panel.parquet")
    for f in ("gold350.yaml", "validity6.yaml"):
        shutil.copy(EXAMPLES / f, d / f)
    return d, panel


def _same(back: pl.DataFrame, want: pl.DataFrame) -> None:
    assert back.columns == want.columns
    for c in want.columns:
        if want[c].dtype.is_numeric():
            assert back[c].cast(pl.Float64).to_list() == pytest.approx(want[c].cast(pl.Float64).to_list(), nan_ok=True), c
        elif want[c].dtype == pl.Date:
            assert back[c].cast(pl.Date).to_list() == want[c].to_list(), c
        else:
            assert back[c].fill_null("").to_list() == want[c].fill_null("").to_list(), c


def test_simulate_writes_the_python_tables(files, capsys):
    d, panel = files
    out = d / "reforms.xlsx"
    argv = [str(d / "panel.parquet"), "--scheme", "unicom_vip", "--reform", str(d / "gold350.yaml"),
            "--reform", str(d / "validity6.yaml"), "--stack", "--drop-effect", "1.5,2,3", "--churn-rate", "0.05",
            "--as-of", "2025-05", "--out", str(out)]
    assert main(["simulate", *argv]) == 0
    printed = capsys.readouterr().out
    assert "gold 350 + validity 6" in printed and "net value" in printed
    a, b = load_reform(d / "gold350.yaml"), load_reform(d / "validity6.yaml")
    want = compare_reforms(panel, "unicom_vip", {"gold 350": a, "validity 6": b, "gold 350 + validity 6": a + b},
                           as_of="2025-05", drop_effect=(1.5, 2.0, 3.0), churn=0.05)
    for sheet, table in want.tables().items():
        _same(pl.read_excel(out, sheet_name=sheet), table)
    assert pl.read_excel(out, sheet_name="reforms")["reform"].to_list() == ["gold 350", "validity 6",
                                                                           "gold 350 + validity 6"]
    # both example reforms bite at as_of, so the stack's second step is a real step
    steps = want.breakdown.filter(reform="gold 350 + validity 6").sort("step")
    assert steps.height == 2 and steps["cost_saved"].to_list()[1] != 0 and steps["downgraded"].to_list()[1] != 0
    # csv: the side-by-side table alone; a second run refuses to overwrite without --overwrite
    csv = d / "reforms.csv"
    assert main(["simulate", *argv[:-1], str(csv)]) == 0
    _same(pl.read_csv(csv, try_parse_dates=True), want.table)
    assert main(["simulate", *argv[:-1], str(csv)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["simulate", *argv[:-1], str(csv), "--overwrite"]) == 0


def test_compare_and_sweep_write_the_python_tables(files):
    d, panel = files
    out = d / "tables.xlsx"
    assert main(["compare", str(d / "panel.parquet"), "--scheme", "unicom_vip,unicom_ladder", "--as-of", "2025-04",
                 "--out", str(out), "--quiet"]) == 0
    cmp = tierlib.compare(tierlib.rate(panel, ["unicom_vip", "unicom_ladder"]), panel, as_of="2025-04")
    _same(pl.read_excel(out, sheet_name="summary"), cmp.summary)
    _same(pl.read_excel(out, sheet_name="distribution"), cmp.distribution)
    assert pl.read_excel(out, sheet_name="notes")["note"].to_list() == list(cmp.notes)
    sw = d / "sweep.csv"
    assert main(["sweep", str(d / "panel.parquet"), "--scheme", "unicom_vip", "--param", "thresholds.mobile.gold",
                 "--values", "250,300,350", "--out", str(sw)]) == 0
    want = sweep(panel, "unicom_vip", "thresholds.mobile.gold", [250, 300, 350])
    back = pl.read_csv(sw)
    assert back["param"].unique().to_list() == ["thresholds.mobile.gold"]
    _same(back.drop("scheme", "param"), want)


@pytest.mark.parametrize("args, message", [
    (["simulate", "{d}/panel.parquet", "--scheme", "unicom_vip", "--reform", "{d}/nope.yaml"], "reform file not found"),
    (["simulate", "{d}/panel.parquet", "--scheme", "unicom_vip", "--reform", "{d}/gold350.yaml",
      "--drop-effect", "3,2,1"], "low,central,high in that order"),
    (["simulate", "{d}/panel.parquet", "--scheme", "unicom_vip", "--reform", "{d}/gold350.yaml",
      "--reform", "{d}/gold350.yaml"], "given twice"),
    (["simulate", "{d}/panel.parquet", "--scheme", "unicom_vip", "--reform", "{d}/gold350.yaml", "--stack"],
     "--stack needs"),
    (["simulate", "{d}/panel.parquet", "--scheme", "unicom_vip", "--reform", "{d}/typo.yaml"],
     "thresholds.mobile.gould"),
    (["simulate", "{d}/panel.parquet", "--scheme", "unicom_vip", "--reform", "{d}/gold350.yaml",
      "--out", "{d}/x.json"], "unknown output format"),
    (["sweep", "{d}/panel.parquet", "--scheme", "unicom_vip", "--param", "thresholds.gold", "--values", "1,2"],
     "no parameter 'thresholds.gold'"),
    (["compare", "{d}/missing.parquet"], "not found"),
    (["compare", "{d}/panel.parquet", "--scheme", "unicom_vip", "--as-of", "2031-01"], "2031-01"),
])
def test_mistakes_are_one_line_and_exit_2(files, capsys, args, message):
    d, _ = files
    (d / "typo.yaml").write_text("changes:\n  thresholds.mobile.gould: 350\n", encoding="utf-8")
    assert main([a.format(d=d) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tierlib: error:") and message in err, err
    assert "Traceback" not in err


def test_progress_bar_on_request_only(files, capsys):
    d, _ = files
    argv = ["simulate", str(d / "panel.parquet"), "--scheme", "unicom_vip", "--reform", str(d / "gold350.yaml"),
            "--drop-effect", "2", "--churn-rate", "0.05"]
    assert main(argv + ["--progress"]) == 0
    assert "tierlib simulate" in capsys.readouterr().err  # the tqdm bar's label, on stderr
    assert main(argv) == 0  # stderr is no terminal here: no bar
    assert capsys.readouterr().err == ""


def test_simulate_and_sweep_rate_the_schemes_own_carrier_unless_told(tmp_path, capsys):
    """A reform of unicom_vip on a panel of three carriers: the command rated every customer
    under unicom's rules (mobile and telecom customers' moves and costs counted as unicom's)."""
    from tierlib.synth import make_panel

    panel = make_panel(900, 24, seed=11)[0]
    path = tmp_path / "panel.parquet"
    panel.write_parquet(path)
    unicom = panel.filter(pl.col("carrier").cast(pl.String) == "unicom")
    n, total = unicom["customer_id"].n_unique(), panel["customer_id"].n_unique()
    assert 0 < n < total
    gold = load_reform(EXAMPLES / "gold350.yaml")
    args = [str(path), "--scheme", "unicom_vip", "--reform", str(EXAMPLES / "gold350.yaml"),
            "--drop-effect", "2", "--churn-rate", "0.05"]
    for flag, frame in (([], unicom), (["--all-carriers"], panel)):
        out = tmp_path / f"r{len(flag)}.csv"
        assert main(["simulate", *args, *flag, "--out", str(out)]) == 0
        err = capsys.readouterr().err
        assert (f"rating the {n:,} customers of carrier unicom (of {total:,}" in err) == (not flag)
        want = compare_reforms(frame, "unicom_vip", {"gold 350": gold}, drop_effect=2.0, churn=0.05).table
        _same(pl.read_csv(out, try_parse_dates=True), want)
    out = tmp_path / "s.csv"
    assert main(["sweep", str(path), "--scheme", "unicom_vip", "--param", "thresholds.mobile.gold",
                 "--values", "300,350", "--quiet", "--out", str(out)]) == 0
    want = sweep(unicom, "unicom_vip", "thresholds.mobile.gold", [300, 350])
    back = pl.read_csv(out)
    everyone = sweep(panel, "unicom_vip", "thresholds.mobile.gold", [300, 350])
    assert back["customers"].to_list() == want["customers"].to_list() < everyone["customers"].to_list()
    assert back["yearly_cost"].to_list() == pytest.approx(want["yearly_cost"].to_list())
