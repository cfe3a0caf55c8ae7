"""One month parser and one name (``as_of``) for the month an analysis describes (issue 9, item 7)."""

from __future__ import annotations

import datetime as dt
import inspect
import pathlib
import warnings

import nbformat
import polars as pl
import pytest
from hypothesis import given, settings, strategies as st

import tierlib
from tierlib.cli import main
from tierlib.months import as_month, date_expr, from_index, index_expr, month_index

D = dt.date
PKG = pathlib.Path(tierlib.__file__).parent


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.integers(1900, 2200), st.integers(1, 12))
def test_every_spelling_of_a_month_is_the_same_month(year, month):
    d = D(year, month, 1)
    for x in (f"{year}-{month:02d}", f"{year}-{month:02d}-01", f"{year}{month:02d}", year * 100 + month,
              d, dt.datetime(year, month, 1)):
        assert as_month(x) == d
    assert from_index(month_index(d)) == d


@pytest.mark.parametrize("bad", ["2025-3", "2025-13", "202513", "2025-03-15", "2025-02-30", "03/2025",
                                 "2025/03", "", "March 2025", 2025, 20250301, 3.5, True, None,
                                 D(2025, 3, 15), dt.datetime(2025, 3, 1, 10, 31)])
def test_anything_else_is_refused_with_the_value_in_the_message(bad):
    with pytest.raises(ValueError) as e:
        as_month(bad, name="as_of")
    assert str(e.value).startswith(f"as_of: {bad!r} is not a month")


def test_index_expressions_match_the_scalar_functions():
    ds = [D(1999, 12, 1), D(2024, 1, 1), D(2025, 3, 1)]
    out = pl.DataFrame({"m": ds}).select(t=index_expr(pl.col("m"))).with_columns(d=date_expr(pl.col("t")))
    assert out["t"].to_list() == [month_index(d) for d in ds] and out["d"].to_list() == ds


def _panel() -> pl.DataFrame:
    months = [D(2024, m, 1) for m in range(1, 13)]
    return pl.DataFrame({"customer_id": "c1", "month": months, "join_month": D(2023, 1, 1), "billed": 200.0})


@pytest.mark.parametrize("as_of", ["2024-06", "2024-06-01", "202406", 202406, D(2024, 6, 1)])
def test_analyses_read_every_spelling(as_of):
    p = _panel()
    ledger = tierlib.rate(p, "unicom_vip")
    assert tierlib.compare(ledger, p, as_of=as_of)["distribution"]["customers"].sum() == 1
    assert tierlib.explain(p, "unicom_vip", customer_id="c1", as_of=as_of).as_of == D(2024, 6, 1)
    sim = tierlib.simulate(p, "unicom_vip", {"thresholds.mobile.silver": 250}, as_of=as_of)
    assert sim.movers["customers"].sum() == 1


def test_a_day_inside_a_month_is_refused_by_the_analyses():
    p = _panel()
    with pytest.raises(ValueError, match="as_of: '2024-06-15' is not a month"):
        tierlib.compare(tierlib.rate(p, "unicom_vip"), p, as_of="2024-06-15")


def test_command_line_month_flag_is_as_of_in_every_form(tmp_path, capsys):
    path = tmp_path / "p.parquet"
    _panel().write_parquet(path)
    for form in ("2024-06", "2024-06-01", "202406"):
        assert main(["explain", str(path), "--scheme", "unicom_vip", "--customer", "c1", "--as-of", form]) == 0
        assert "unicom_vip | customer c1 | 2024-06" in capsys.readouterr().out
    assert main(["explain", str(path), "--scheme", "unicom_vip", "--customer", "c1", "--as-of", "06/2024"]) == 2
    assert capsys.readouterr().err.strip() == ("tierlib: error: --as-of: '06/2024' is not a month "
                                               "(give YYYY-MM, YYYY-MM-01, YYYYMM, or a date on the 1st)")
    with pytest.raises(SystemExit):  # the old flag is gone: one name
        main(["explain", str(path), "--scheme", "unicom_vip", "--customer", "c1", "--month", "2024-06"])


def test_no_public_function_names_the_month_otherwise():
    """`as_of` is the one name: no public callable of the package takes `month`, `at` or `when`."""
    import importlib

    offenders = []
    for f in sorted(PKG.rglob("*.py")):
        mod_name = "tierlib." + ".".join(f.relative_to(PKG).with_suffix("").parts)
        if mod_name.endswith("__init__") or "._" in mod_name or mod_name in ("tierlib.cli", "tierlib.spark"):
            continue
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            members = [(name, obj)]
            if inspect.isclass(obj):
                members += [(f"{name}.{m}", v) for m, v in vars(obj).items()
                            if callable(v) and not m.startswith("_")]
            for label, fn in members:
                try:
                    params = inspect.signature(fn).parameters
                except (TypeError, ValueError):
                    continue
                # a polars expression for the rows' own month column is not the analysis month
                offenders += [f"{mod_name}.{label}({p})" for p, v in params.items()
                              if p in ("month", "at", "when") and "Expr" not in str(v.annotation)]
    assert offenders == []


def test_no_other_month_parser_in_the_package():
    """One parser: nothing but tierlib/months.py turns analysts' month text into dates."""
    users = sorted(str(f.relative_to(PKG)) for f in PKG.rglob("*.py")
                   if "fromisoformat" in f.read_text(encoding="utf-8"))
    # dated.py (parameter values, once in params.py) reads the `from:` dates of parameter files
    # (dates of a rule change, not months)
    assert users == ["dated.py"]


def _notebook(path: pathlib.Path, source: str) -> pathlib.Path:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    return path


def test_report_runner_warns_when_a_notebook_ignores_a_common_parameter(tmp_path):
    from tierlib.report import ReportConfig, ReportWarning, check_parameters

    a = _notebook(tmp_path / "a.ipynb", "as_of = None  # month\nseed = 0")
    b = _notebook(tmp_path / "b.ipynb", "month = None  # month, under another name\nseed = 0")
    with pytest.warns(ReportWarning, match=r"b.ipynb: does not declare 'as_of'"):
        check_parameters(ReportConfig(notebooks=(a, b), parameters={"as_of": "2024-06", "seed": 1}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every notebook declares it: no warning
        check_parameters(ReportConfig(notebooks=(a, b), parameters={"seed": 1}))


def test_the_shipped_notebooks_all_declare_as_of():
    from tierlib.report import declared_parameters

    for nb in sorted((PKG.parent / "notebooks").glob("*.ipynb")):
        assert "as_of" in declared_parameters(nb), nb.name
