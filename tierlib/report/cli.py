"""``tierlib report``: its argument parser and entry point."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tierlib.report.config import DEFAULT_CONFIG, ReportError, load_config
from tierlib.report.execution import run_report

def add_report_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report`` to a CLI's subparsers; the parsed args go to :func:`cli_main`.

    Examples
    --------
    >>> parser = argparse.ArgumentParser(prog="tierlib")
    >>> _ = add_report_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["report", "--out", "reports/monthly"])
    >>> args.config, args.out, args.func is cli_main
    (None, 'reports/monthly', True)
    """
    parser = subparsers.add_parser(
        "report", help="run the report notebooks and publish offline HTML pages",
        description="Run the report notebooks with papermill and write reports/<run-id>/ with "
                    "index.html, one HTML page and one executed .ipynb per notebook, and params.json.",
    )
    parser.add_argument("--config", help=f"report config (YAML); default: {DEFAULT_CONFIG.name} in the package")
    parser.add_argument("--out", help="output folder; default: reports/<timestamp>")
    parser.set_defaults(func=cli_main)
    return parser


def cli_main(args: argparse.Namespace) -> int:
    """Run ``tierlib report``; return the exit code (0 ok, 1 a notebook failed, 2 config rejected).

    Problems go to stderr, one line each; the path of ``index.html`` goes to stdout.

    Examples
    --------
    >>> cli_main(argparse.Namespace(config="no/such/config.yaml", out=None))
    2
    """
    def say(line: str) -> None:
        print(f"tierlib report: {line}", file=sys.stderr, flush=True)

    try:
        run = run_report(load_config(args.config), out=args.out, progress=say)
    except ReportError as exc:
        for line in str(exc).splitlines():
            say(line)
        return 2
    for line in run.failures:
        say(line)
    print(run.out / "index.html")
    return 0 if run.ok else 1
