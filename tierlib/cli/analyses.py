"""Bodies of ``tierlib compare | simulate | sweep`` (the parsers are in :mod:`tierlib.cli`).

Each reads a panel, refuses a bad output path before any work, runs one analysis and writes its
tables: an ``.xlsx`` workbook (a sheet per table, :func:`tierlib.excel.write_workbook`) or the
main table as ``.csv`` (``sweep`` also ``.parquet``). Long steps show a progress bar on stderr
when it is a terminal (``--progress`` forces it, ``--quiet`` hides it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl

from tierlib.cli.common import UserError, read_panel, schemes_arg as _schemes_arg, write_frame
from tierlib.months import as_month
from tierlib.progress import progress_bar, report

__all__ = ["cmd_compare", "cmd_simulate", "cmd_sweep", "own_customers", "parse_drop_effect", "parse_values"]


def _check_out(a: argparse.Namespace, allowed: tuple[str, ...]) -> str:
    from tierlib.outputs import check_output, check_target

    suffix = Path(a.out).suffix.lower()
    if suffix not in allowed:
        raise UserError(f"{a.out}: unknown output format '{suffix}' (use {' or '.join(allowed)})")
    check_output(a.out, [a.panel])
    check_target(a.out, overwrite=a.overwrite)
    return suffix


def _write(tables: dict[str, pl.DataFrame], main: str, a: argparse.Namespace, suffix: str) -> None:
    from tierlib.excel import write_workbook

    if suffix == ".xlsx":
        write_workbook(tables, a.out, overwrite=a.overwrite)
        print(f"wrote {a.out}: sheets {', '.join(tables)}")
    else:
        write_frame(tables[main], a.out, inputs=[a.panel], overwrite=a.overwrite)
        print(f"wrote {a.out}: the {main} table (write .xlsx for every table)")


def _as_of(a: argparse.Namespace):
    return None if a.as_of is None else as_month(a.as_of, name="--as-of")


def _bar(a: argparse.Namespace):
    return progress_bar(False if a.quiet else (True if a.progress else None), desc=f"tierlib {a.command}")


def own_customers(panel: pl.DataFrame, scheme: str, a: argparse.Namespace) -> pl.DataFrame:
    """The panel a reform of ``scheme`` is rated on: its own carrier's customers when the panel
    has a ``carrier`` column (said on stderr unless ``--quiet``), every customer with ``--all-carriers``."""
    import sys

    from tierlib.panel import of_carrier
    from tierlib.schemefiles import load_scheme

    if a.all_carriers or "carrier" not in panel.columns:
        return panel
    carrier = load_scheme(scheme).carrier
    mine = of_carrier(panel, carrier)
    n, total = mine["customer_id"].n_unique(), panel["customer_id"].n_unique()
    if n == 0:
        raise UserError(f"{a.panel}: no customer of carrier {carrier!r} (the carrier of {scheme}); "
                        "--all-carriers rates every customer under it")
    if n < total and not a.quiet:
        print(f"tierlib {a.command}: rating the {n:,} customers of carrier {carrier} (of {total:,} in the panel; "
              "--all-carriers for all)", file=sys.stderr)
    return mine


def cmd_compare(a: argparse.Namespace) -> int:
    """Rate the panel under the schemes and write every comparison table."""
    import tierlib
    from tierlib.card import assumptions
    from tierlib.compare import TABLES

    suffix = _check_out(a, (".xlsx", ".csv")) if a.out else None
    # loaded once: a scheme given as a file (--scheme path.yaml) is found by its object, not its id
    schemes = [tierlib.load_scheme(x) for x in _schemes_arg(a.scheme) for x in (tierlib.schemes() if x == "all" else [x])]
    with _bar(a) as progress:
        report(progress, 0, 3, "reading the panel")
        panel = read_panel(a.panel)
        report(progress, 1, 3, f"rating under {len(schemes)} scheme(s)")
        ledger = tierlib.rate(panel, schemes)
        report(progress, 2, 3, "comparing")
        cmp = tierlib.compare(ledger, panel, as_of=_as_of(a), schemes=schemes)
        report(progress, 3, 3, "done")
    print(cmp)
    if a.out:
        tables = {t: cmp[t] for t in TABLES}
        tables["notes"] = pl.DataFrame({"note": list(cmp.notes)}, schema={"note": pl.String})
        tables["assumptions"] = assumptions(schemes)
        _write(tables, "summary", a, suffix)
    return 0


def parse_drop_effect(text: str):
    """``estimate``, one hazard ratio, or ``low,central,high``.

    >>> parse_drop_effect("1.5,2,3"), parse_drop_effect("2"), parse_drop_effect("estimate")
    ((1.5, 2.0, 3.0), 2.0, 'estimate')
    """
    if text.strip().lower() == "estimate":
        return "estimate"
    try:
        xs = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise UserError(f"--drop-effect {text!r}: give 'estimate', a hazard ratio or low,central,high") from None
    if len(xs) == 1:
        if not xs[0] > 0 or xs[0] == float("inf"):
            raise UserError(f"--drop-effect {text!r}: a hazard ratio is a positive number")
        return xs[0]
    if len(xs) != 3 or not xs[0] <= xs[1] <= xs[2] or xs[0] <= 0:
        raise UserError(f"--drop-effect {text!r}: give three positive numbers low,central,high in that order")
    return xs


def cmd_simulate(a: argparse.Namespace) -> int:
    """Reforms side by side with their net value: the table, the breakdown, the assumptions."""
    from tierlib.reforms import Reform, compare_reforms, load_reform

    suffix = _check_out(a, (".xlsx", ".csv")) if a.out else None
    effect = parse_drop_effect(a.drop_effect)
    if a.churn_rate is not None and not 0 <= a.churn_rate <= 1:
        raise UserError(f"--churn-rate {a.churn_rate}: a probability between 0 and 1")
    reforms: dict[str, Reform] = {}
    for path in a.reform:
        r = load_reform(path)
        if r.name in reforms:
            raise UserError(f"--reform {path}: the name {r.name!r} is given twice (set 'name:' in the file)")
        reforms[r.name] = r
    if a.stack:
        if len(reforms) < 2:
            raise UserError("--stack needs at least two --reform files (stacked in the order given)")
        total = list(reforms.values())
        stacked = total[0]
        for r in total[1:]:
            stacked = stacked + r
        reforms[stacked.name] = stacked
    with _bar(a) as progress:
        panel = own_customers(read_panel(a.panel), a.scheme, a)
        cmp = compare_reforms(panel, a.scheme, reforms, as_of=_as_of(a), drop_effect=effect,
                              churn=a.churn_rate, window=a.window, n_boot=a.n_boot, seed=a.seed,
                              progress=progress)
    print(cmp)
    if a.out:
        _write(cmp.tables(), "reforms", a, suffix)
    return 0


def parse_values(text: str) -> list:
    """Comma-separated values, each read as JSON where it can be (numbers, true/false), else text.

    >>> parse_values("250, 300,350.5"), parse_values("true,false")
    ([250, 300, 350.5], [True, False])
    """
    out = []
    for x in (v.strip() for v in text.split(",")):
        if not x:
            raise UserError(f"--values {text!r}: an empty value")
        try:
            out.append(json.loads(x))
        except json.JSONDecodeError:
            out.append(x)
    return out


def cmd_sweep(a: argparse.Namespace) -> int:
    """Rate the panel once per value of one parameter: one row per value."""
    from tierlib.reforms import sweep

    suffix = _check_out(a, (".xlsx", ".csv", ".parquet")) if a.out else None
    values = parse_values(a.values)
    with _bar(a) as progress:
        report(progress, 0, 2, "reading the panel")
        panel = own_customers(read_panel(a.panel), a.scheme, a)
        report(progress, 1, 2, f"rating {len(values)} values of {a.param}")
        table = sweep(panel, a.scheme, a.param, values, as_of=_as_of(a))
        report(progress, 2, 2, "done")
    table = table.with_columns(param=pl.lit(a.param), scheme=pl.lit(a.scheme)).select("scheme", "param", pl.all().exclude("scheme", "param"))
    with pl.Config(tbl_rows=100, tbl_cols=12, tbl_hide_dataframe_shape=True):
        print(table)
    if a.out:
        if suffix == ".parquet":
            write_frame(table, a.out, inputs=[a.panel], overwrite=a.overwrite)
            print(f"wrote {a.out}")
        else:
            _write({"sweep": table}, "sweep", a, suffix)
    return 0
