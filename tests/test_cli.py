"""The command line: outputs, and one-line errors with a non-zero exit for user mistakes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import polars as pl
import pytest

from tierlib.cli import main


@pytest.fixture()
def panel_csv(tmp_path):
    months = [dt.date(2024, m, 1) for m in range(1, 13)]
    path = tmp_path / "panel.csv"
    pl.DataFrame({"customer_id": ["c1"] * 12 + ["c2"] * 12, "month": months * 2,
                  "join_month": dt.date(2024, 1, 1), "billed": [160.0] * 12 + [20.0] * 12}).write_csv(path)
    return path


def test_rate_writes_csv_and_parquet(panel_csv, tmp_path, capsys):
    assert main(["rate", str(panel_csv), "-s", "unicom_vip,mobile_credit", "--out", str(tmp_path / "l.csv")]) == 0
    out = pl.read_csv(tmp_path / "l.csv")
    assert out.height == 48 and set(out["scheme"]) == {"unicom_vip", "mobile_credit"}
    last = out.filter((pl.col("month") == "2024-12-01") & (pl.col("scheme") == "unicom_vip")).sort("customer_id")
    assert last["tier"].to_list() == ["silver", "none"]
    assert main(["rate", str(panel_csv), "--out", str(tmp_path / "l.parquet")]) == 0
    assert pl.read_parquet(tmp_path / "l.parquet")["scheme"].n_unique() == 6
    assert "unicom_vip" in capsys.readouterr().out


def test_explain_prints_reasons(panel_csv, capsys):
    assert main(["explain", str(panel_csv), "-s", "unicom_vip", "-c", "c1", "--as-of", "2024-12"]) == 0
    text = capsys.readouterr().out
    assert "tier silver" in text and "window: 2024-06 .. 2024-11" in text and "valid until 2025-01" in text


@pytest.mark.parametrize("argv,message", [
    (["rate", "missing.parquet"], "panel not found: missing.parquet"),
    (["rate", "{csv}", "-s", "nope"], "unknown scheme 'nope'"),
    (["rate", "{bad}"], "column 'billed': negative money"),
    (["explain", "{csv}", "-s", "unicom_vip", "-c", "zz", "--as-of", "2024-03"], "customer_id 'zz' is not in the panel"),
    (["explain", "{csv}", "-s", "unicom_vip", "-c", "c1", "--as-of", "203003"], "has no row in month 2030-03-01"),
    (["card", "telecom_club:low"], "no variant 'low'"),
    (["rate", "{txt}"], "unknown panel format '.json'"),
])
def test_user_errors_are_one_line(argv, message, panel_csv, tmp_path, capsys):
    bad = tmp_path / "bad.parquet"
    pl.read_csv(panel_csv, try_parse_dates=True).with_columns(billed=pl.lit(-5.0)).write_parquet(bad)
    txt = tmp_path / "p.json"
    txt.write_text("{}")
    argv = [a.format(csv=panel_csv, bad=bad, txt=txt) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tierlib: error:") and message in err


def test_console_script_exit_code(tmp_path):
    """The installed entry point: no traceback, exit 2."""
    r = subprocess.run([sys.executable, "-m", "tierlib.cli", "rate", str(tmp_path / "none.parquet")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "panel not found" in r.stderr


def test_schemes_and_card(capsys):
    assert main(["schemes"]) == 0
    assert "unicom_vip" in capsys.readouterr().out
    assert main(["card", "mobile_gotone", "--as-of", "202406"]) == 0
    text = capsys.readouterr().out
    assert "plan_levels.288 = silver" in text and "[ASSUMED]" in text


def test_every_parser_lives_in_the_cli_and_subcommand_modules_load_lazily():
    """Issue 11 item 3: building the parser imported tierlib.report (papermill) and tierlib.synth."""
    code = ("import sys\nfrom tierlib.cli import build_parser\nap = build_parser()\n"
            "a = ap.parse_args(['synth', '--customers', '5', '--out', 'x'])\n"
            "b = ap.parse_args(['report', '--out', 'r'])\n"
            "print(a.func.__module__, b.func.__module__, "
            "[m for m in ('tierlib.report', 'tierlib.synth', 'papermill') if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["tierlib.cli", "tierlib.cli", "[]"]
