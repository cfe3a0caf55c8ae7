"""Command line: ``tierlib rate | explain | schemes | card | validate | import | synth | report | compare | simulate | sweep``.

User mistakes (bad panel, unknown scheme, missing file) print one readable line and exit 2;
only a bug in tierlib itself shows a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from tierlib.months import as_month

__all__ = ["main", "write_frame"]

from tierlib.cli.common import UserError, read_panel, schemes_arg as _schemes_arg, write_frame  # noqa: E402


def _summary(ledger: pl.DataFrame) -> pl.DataFrame:
    """Customers per tier in the latest month of each scheme."""
    last = ledger.filter(pl.col("month") == pl.col("month").max())
    return _shares(last.group_by("scheme", "rank", "tier").agg(customers=pl.len()))


def _shares(counts: pl.DataFrame) -> pl.DataFrame:
    return (counts.with_columns(share=(pl.col("customers") / pl.col("customers").sum().over("scheme")).round(4))
            .sort("scheme", "rank").with_columns(pl.col("scheme", "tier").cast(pl.String)))


def _out_of_core(a: argparse.Namespace) -> bool:
    """``--partitions N``, or ``--out`` naming a directory (no file suffix, or an existing dir)."""
    if a.partitions is not None:
        if not a.out:
            raise UserError("--partitions needs --out DIR (the ledger is written partition by partition)")
        if Path(a.out).suffix in (".parquet", ".csv"):
            raise UserError(f"--partitions writes a directory, not {a.out}")
        return True
    return bool(a.out) and (Path(a.out).is_dir() or a.out.endswith("/") or not Path(a.out).suffix)


def cmd_rate_partitioned(a: argparse.Namespace) -> int:
    """Rate a parquet panel larger than memory into a partitioned ledger (tierlib.scale)."""
    from tierlib.scale import rate_parquet

    src = Path(a.panel)
    if not src.exists():
        raise UserError(f"panel not found: {src}")
    if src.is_file() and src.suffix != ".parquet":
        raise UserError(f"{src}: partitioned rating reads parquet (a file or a directory of files)")
    try:
        m = rate_parquet(src, _schemes_arg(a.scheme), a.out, partitions=a.partitions, progress=not a.quiet,
                         overwrite=a.overwrite, columns=_columns_arg(a))
    except FileExistsError as e:
        raise UserError(str(e)) from None
    print(f"wrote {m['ledger_rows']:,} ledger rows ({len(m['schemes'])} schemes, {m['partitions']} "
          f"partitions) to {a.out}")
    counts = pl.DataFrame(m["latest_month_tiers"], schema={"scheme": pl.String, "rank": pl.Int8,
                                                           "tier": pl.String, "customers": pl.UInt32})
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True):
        print(_shares(counts))
    return 0


def _columns_arg(a: argparse.Namespace, *, one_table: bool = False) -> list[str] | None:
    """``--columns a,b``: the compact ledger's columns, checked before any work (None: all).

    ``one_table``: the schemes' ledgers go into one table, so several need ``scheme``.
    """
    from tierlib.rating import _resolve_schemes, ledger_columns

    if a.columns is None:
        return None
    cols = [c.strip() for c in a.columns.split(",") if c.strip()]
    try:
        return ledger_columns(cols, len(_resolve_schemes(_schemes_arg(a.scheme))) if one_table else 1)
    except ValueError as e:
        raise UserError(f"--columns {a.columns}: {e}") from None


def _with_summary_columns(cols: list[str] | None) -> list[str] | None:
    """The columns to build: those asked for, and those the closing summary counts with."""
    return None if cols is None else cols + [c for c in ("scheme", "month", "rank", "tier") if c not in cols]


def cmd_rate(a: argparse.Namespace) -> int:
    import tierlib

    if _out_of_core(a):
        return cmd_rate_partitioned(a)
    xlsx = bool(a.out) and Path(a.out).suffix == ".xlsx"
    cols = _columns_arg(a, one_table=not xlsx)
    if xlsx:  # a sheet per scheme (tierlib.cli.warehouse)
        from tierlib.cli.warehouse import rate_to_workbook

        ledger = rate_to_workbook(a, _schemes_arg(a.scheme), columns=cols)
        with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True):
            print(_summary(ledger))
        return 0
    if a.out:  # refuse a bad output before the work
        from tierlib.outputs import check_output, check_target

        check_output(a.out, [a.panel])
        if Path(a.out).suffix not in (".csv", ".parquet"):
            raise UserError(f"{a.out}: unknown output format '{Path(a.out).suffix}' (use .parquet, .csv or .xlsx)")
        check_target(a.out, overwrite=a.overwrite)
    ledger = tierlib.rate(read_panel(a.panel, mapping=a.map), _schemes_arg(a.scheme),
                          columns=_with_summary_columns(cols))
    if a.out:
        write_frame(ledger if cols is None else ledger.select(cols), a.out, inputs=[a.panel], overwrite=a.overwrite)
        print(f"wrote {ledger.height:,} ledger rows ({ledger['scheme'].n_unique()} schemes) to {a.out}")
    with pl.Config(tbl_rows=100, tbl_hide_dataframe_shape=True):
        print(_summary(ledger))
    return 0


def cmd_explain(a: argparse.Namespace) -> int:
    import tierlib

    panel = read_panel(a.panel, lazy=True, mapping=a.map)
    cid = a.customer
    if panel.collect_schema().get("customer_id") in (pl.Int64, pl.Int32, pl.UInt32, pl.UInt64):
        try:
            cid = int(cid)
        except ValueError:
            raise UserError(f"customer_id is an integer column, got '{a.customer}'") from None
    as_of = as_month(a.as_of, name="--as-of")
    for s in _schemes_arg(a.scheme):
        print(tierlib.explain(panel, s, customer_id=cid, as_of=as_of))
        print()
    return 0


def cmd_schemes(a: argparse.Namespace) -> int:
    import tierlib

    for sid in tierlib.schemes():
        s = tierlib.load_scheme(sid)
        variants = f"  (variants: {', '.join(s.variants)})" if s.variants else ""
        print(f"{sid:15} {s.label}  {' < '.join(s.ladder)}{variants}")
    return 0


def cmd_card(a: argparse.Namespace) -> int:
    import tierlib

    as_of = None if a.as_of is None else as_month(a.as_of, name="--as-of")
    print(tierlib.load_scheme(a.scheme, as_of=as_of).card())
    return 0


def cmd_validate(a: argparse.Namespace) -> int:
    """Every broken rule in one run, as a table (exit 1), else ``ok`` (tierlib.cli.warehouse)."""
    from tierlib.cli.warehouse import cmd_validate as validate_all

    return validate_all(a)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tierlib", description="Rate customers under Chinese carriers' tier schemes.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rate", help="rate a panel under one or more schemes")
    r.add_argument("panel", help="panel file (.parquet, .csv) or directory of parquet files")
    r.add_argument("--scheme", "-s", action="append", help="scheme id (repeat or comma-separate; default all)")
    r.add_argument("--out", "-o", help="ledger output (.parquet, .csv, or .xlsx: a sheet per scheme), "
                   "or a directory: rate the "
                   "panel partition by partition into DIR/<scheme>/part-*.parquet (out of core)")
    r.add_argument("--partitions", "-p", type=int, help="number of customer partitions for --out DIR "
                   "(default: about 4 M panel rows each)")
    r.add_argument("--overwrite", action="store_true", help="replace a previous output of tierlib at "
                   "--out (never a file or folder tierlib did not write)")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.add_argument("--columns", "-c", metavar="A,B", help="write a compact ledger: only these ledger columns "
                   "(comma-separated, e.g. customer_id,month,scheme,tier; default all)")
    r.set_defaults(func=cmd_rate)
    e = sub.add_parser("explain", help="explain one customer's tier in one month")
    e.add_argument("panel")
    e.add_argument("--scheme", "-s", action="append", required=True)
    e.add_argument("--customer", "-c", required=True)
    e.add_argument("--as-of", required=True, help="the month: YYYY-MM, YYYY-MM-01 or YYYYMM")
    e.set_defaults(func=cmd_explain)
    s = sub.add_parser("schemes", help="list the schemes")
    s.set_defaults(func=cmd_schemes)
    c = sub.add_parser("card", help="print a scheme's card (parameters, provenance, assumptions)")
    c.add_argument("scheme")
    c.add_argument("--as-of", help="show the parameters in force in this month (YYYY-MM, YYYYMM)")
    c.set_defaults(func=cmd_card)
    v = sub.add_parser("validate", help="check a panel against the data contract: every broken rule "
                       "in one table (exit 1 when any)")
    v.add_argument("panel")
    v.set_defaults(func=cmd_validate)
    _warehouse_commands(sub)
    _optional_commands(sub)
    _decide_commands(sub)
    return ap


def _warehouse_commands(sub: argparse._SubParsersAction) -> None:
    """``import`` and ``--map`` on rate / explain / validate (bodies in tierlib.cli.warehouse)."""
    from tierlib.cli.warehouse import add_arguments

    add_arguments(sub)


def _optional_commands(sub: argparse._SubParsersAction) -> None:
    """``synth`` and ``report``: parsed here, their modules imported only when they run."""
    p = sub.add_parser(
        "synth", help="write a synthetic panel (panel.parquet) and its churn truth (truth.parquet)",
        description="Draw a SYNTHETIC customer panel (data/README.md documents the mechanism).")
    p.add_argument("--customers", type=int, required=True, help="number of customers")
    p.add_argument("--months", type=int, default=36, help="panel length in months (default 36)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--start", default="2023-01-01", help="first panel month (default 2023-01-01)")
    p.add_argument("--out", required=True, help="output folder: must not exist or be empty (never overwritten)")
    p.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE",
                   help="override a generator knob, VALUE as JSON (e.g. drop_effect=1.0); repeatable")
    p.set_defaults(func=cmd_synth)
    r = sub.add_parser(
        "report", help="run the report notebooks and publish offline HTML pages",
        description="Run the report notebooks with papermill and write reports/<run-id>/ with "
                    "index.html, one HTML page and one executed .ipynb per notebook, and params.json.")
    r.add_argument("--config", help="report config (YAML); default: report_config.yaml in the package")
    r.add_argument("--out", help="output folder; default: reports/<timestamp>")
    r.add_argument("--overwrite", action="store_true",
                   help="replace a previous report in --out (never other files; a failed report is replaced anyway)")
    r.add_argument("--lang", choices=("en", "zh"),
                   help="language of the pages (headings, text, tables, charts); overrides the config's "
                        "parameters.lang (default en)")
    r.set_defaults(func=cmd_report)


# --- compare, simulate, sweep (bodies in tierlib.cli.analyses, imported when they run) ----------

def _decide(name: str):
    def run(a: argparse.Namespace) -> int:
        from tierlib.cli import analyses

        return getattr(analyses, name)(a)
    return run


def _decide_commands(sub: argparse._SubParsersAction) -> None:
    """``compare``, ``simulate`` and ``sweep``: the analyses, each writing a workbook or CSV."""
    def common(p: argparse.ArgumentParser, out_help: str) -> None:
        p.add_argument("panel", help="panel file (.parquet, .csv) or directory of parquet files")
        p.add_argument("--as-of", help="the month described: YYYY-MM, YYYY-MM-01 or YYYYMM (default: the last)")
        p.add_argument("--out", "-o", help=out_help)
        p.add_argument("--overwrite", action="store_true", help="replace a previous tierlib output at --out")
        g = p.add_mutually_exclusive_group()
        g.add_argument("--progress", action="store_true", help="show the progress bar even when stderr is no terminal")
        g.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    def own(p: argparse.ArgumentParser) -> None:
        p.add_argument("--all-carriers", action="store_true",
                       help="rate every customer of the panel; default: only the scheme's own carrier's "
                            "customers when the panel has a carrier column")
    c = sub.add_parser("compare", help="compare schemes on one panel (tables to a workbook)")
    c.add_argument("--scheme", "-s", action="append", help="scheme id (repeat or comma-separate; default all)")
    common(c, "tables.xlsx (a sheet per table) or .csv (the summary)")
    c.set_defaults(func=_decide("cmd_compare"))
    s = sub.add_parser("simulate", help="reforms of a scheme side by side with their net value",
                       description="Rate the panel under a scheme and each --reform file; write the "
                                   "side-by-side table, the breakdown and the assumptions.")
    s.add_argument("--scheme", "-s", required=True, help="the baseline scheme id")
    own(s)
    s.add_argument("--reform", "-r", action="append", required=True, metavar="FILE.yaml",
                   help="a reform file (docs/REFORMS.md); repeat for several")
    s.add_argument("--stack", action="store_true", help="also the reforms stacked in the order given")
    s.add_argument("--drop-effect", default="estimate", metavar="estimate|HR|LOW,CENTRAL,HIGH",
                   help="drop effect on churn: estimated on the panel (default) or set (hazard ratios)")
    s.add_argument("--churn-rate", type=float, metavar="P", help="probability of leaving within the "
                   "window for every downgraded customer (default: the members' observed rate)")
    s.add_argument("--window", type=int, default=3, help="months of the churn window (default 3)")
    s.add_argument("--n-boot", type=int, default=200, help="bootstraps of an estimated drop effect (default 200)")
    s.add_argument("--seed", type=int, default=0, help="seed of the bootstraps (default 0)")
    common(s, "reforms.xlsx (side by side, breakdown, assumptions) or .csv (side by side)")
    s.set_defaults(func=_decide("cmd_simulate"))
    w = sub.add_parser("sweep", help="rate a panel once per value of one parameter")
    w.add_argument("--scheme", "-s", required=True, help="the scheme id")
    own(w)
    w.add_argument("--param", required=True, metavar="PATH", help="parameter path, e.g. thresholds.mobile.gold")
    w.add_argument("--values", required=True, help="comma-separated values, e.g. 250,300,350")
    common(w, "sweep.xlsx, .csv or .parquet")
    w.set_defaults(func=_decide("cmd_sweep"))


def _knobs(items: list[str]) -> dict:
    import dataclasses
    import json

    from tierlib.synth import Knobs

    names = {f.name for f in dataclasses.fields(Knobs)}
    knobs = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or name not in names:
            raise UserError(f"--knob {item!r}: expected NAME=VALUE with NAME one of {sorted(names)}")
        try:
            knobs[name] = json.loads(value)
        except json.JSONDecodeError:
            knobs[name] = value
    return knobs


def cmd_synth(a: argparse.Namespace) -> int:
    import time

    from tierlib.outputs import check_output, check_target
    from tierlib.synth import write_panel

    check_output(a.out, [])
    check_target(a.out)  # refused before drawing anything
    t = time.perf_counter()
    paths = write_panel(a.out, a.customers, a.months, start=a.start, seed=a.seed, **_knobs(a.knob))
    rows = pl.scan_parquet(paths[0]).select(pl.len()).collect().item()
    print(f"wrote {paths[0]} ({rows} rows) and {paths[1]} in {time.perf_counter() - t:.1f} s "
          "(SYNTHETIC data, see data/README.md)")
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    """Exit 0 ok, 1 a notebook failed, 2 config rejected; problems on stderr, one line each."""
    from tierlib.report import ReportError, load_config, run_report

    def say(line: str) -> None:
        print(f"tierlib report: {line}", file=sys.stderr, flush=True)

    try:
        config = load_config(a.config)
        if getattr(a, "lang", None):
            config = config.with_parameters(lang=a.lang)
        run = run_report(config, out=a.out, overwrite=getattr(a, "overwrite", False), progress=say)
    except ReportError as exc:
        for line in str(exc).splitlines():
            say(line)
        return 2
    for line in run.failures:
        say(line)
    print(run.out / "index.html")
    return 0 if run.ok else 1


def main(argv: list[str] | None = None) -> int:
    from tierlib.outputs import OutputError
    from tierlib.panel import PanelError
    from tierlib.params import SchemeError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, OutputError, PanelError, SchemeError, OSError, pl.exceptions.PolarsError) as e:
        print(f"tierlib: error: {e}".splitlines()[0], file=sys.stderr)
        return 2
    except ValueError as e:  # explain: unknown customer or month
        print(f"tierlib: error: {e}".splitlines()[0], file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tierlib: interrupted; nothing was published (partial work removed or kept hidden for resume)",
              file=sys.stderr)
        return 130

