"""The warehouse commands of ``tierlib`` (parsed in :mod:`tierlib.cli`): ``import``, ``validate``
reporting every broken rule, ``--map`` on ``rate`` / ``explain`` / ``validate``, and
``rate --out ledger.xlsx``.

Exit codes: 0 ok; 1 the data were read but break the contract (``validate``, ``import``: the
table of broken rules is printed); 2 a mistake in the command or its inputs (one line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

__all__ = ["add_arguments", "cmd_import", "cmd_validate", "rate_to_workbook", "print_report"]

_MAP_HELP = ("column mapping of a warehouse export (YAML, docs/MAPPING.md): read PANEL through it "
             "(encoding, column names, date formats, codes)")


def add_arguments(sub: argparse._SubParsersAction) -> None:
    """The ``import`` command, and ``--map`` on the ``rate``, ``explain`` and ``validate`` parsers."""
    p = sub.add_parser(
        "import", help="read a warehouse export through a column mapping and write a panel",
        description="Read SRC (a CSV or parquet file, or a folder of them) through the mapping, check "
                    "every rule of the data contract and write the panel; exit 1 with the table of "
                    "broken rules (nothing written) when any is broken.")
    p.add_argument("src", help="the export: a .csv or .parquet file, or a folder of them")
    p.add_argument("--map", required=True, help="the column mapping (YAML, docs/MAPPING.md)")
    p.add_argument("--out", "-o", required=True, help="the panel to write (.parquet or .csv)")
    p.add_argument("--overwrite", action="store_true", help="replace a previous output of tierlib at --out")
    p.set_defaults(func=cmd_import)
    for name in ("rate", "explain", "validate"):
        sub.choices[name].add_argument("--map", metavar="MAPPING", help=_MAP_HELP)


def print_report(report: pl.DataFrame, what: str) -> int:
    """Print the table of broken rules and a one-line verdict on stderr; 1 (or 0 when empty)."""
    if report.height == 0:
        return 0
    with pl.Config(tbl_rows=-1, fmt_str_lengths=120, tbl_width_chars=200, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True):
        print(report)
    print(f"tierlib: {what} breaks {report.height} rule(s) of the data contract (RULES.md §1; table above)",
          file=sys.stderr)
    return 1


def _note(panel: pl.DataFrame) -> None:
    from tierlib.snapshot import history_support

    why = history_support(panel)
    if why:
        print(f"note: {why}")


def cmd_validate(a: argparse.Namespace) -> int:
    """Every broken rule of the panel in one run (exit 1 when any), else the panel's extent."""
    import tierlib
    from tierlib.io import read_panel
    from tierlib.panelcheck import check_all

    panel = read_panel(a.panel, mapping=a.map)
    if print_report(check_all(panel), a.panel):
        return 1
    panel = tierlib.validate(panel)
    print(f"ok: {panel.height:,} rows, {panel['customer_id'].n_unique():,} customers, "
          f"{panel['month'].min()} .. {panel['month'].max()}")
    _note(panel)
    return 0


def cmd_import(a: argparse.Namespace) -> int:
    """Map the export, check every rule, then write the panel atomically (refused before reading)."""
    from tierlib.cli.common import UserError, write_frame
    from tierlib.mapping import load_mapping, read_mapped
    from tierlib.outputs import check_output, check_target
    from tierlib.panelcheck import check_all

    out = Path(a.out)
    if out.suffix not in (".parquet", ".csv"):
        raise UserError(f"{out}: unknown output format '{out.suffix}' (use .parquet or .csv)")
    check_output(out, [a.src, a.map])
    check_target(out, overwrite=a.overwrite)
    mapping = load_mapping(a.map)
    panel = read_mapped(a.src, mapping)
    if print_report(check_all(panel), f"{a.src} read through {a.map}"):
        print("tierlib: nothing written; fix the export or the mapping", file=sys.stderr)
        return 1
    panel = panel.sort("customer_id", "month")
    write_frame(panel, out, inputs=[a.src, a.map], overwrite=a.overwrite)
    print(f"wrote {out}: {panel.height:,} rows, {panel['customer_id'].n_unique():,} customers, "
          f"{panel['month'].min()} .. {panel['month'].max()}, columns {', '.join(panel.columns)}")
    _note(panel)
    return 0


def rate_to_workbook(a: argparse.Namespace, schemes: list[str], columns: list[str] | None = None) -> pl.DataFrame:
    """``rate --out ledger.xlsx``: a sheet per scheme via :func:`tierlib.excel.write_workbook`
    (``columns``: only these ledger columns on each sheet).

    A ledger has one row per panel row and scheme, so a panel with more rows than a sheet
    holds is refused, in one line, before any rating.
    """
    import tierlib
    from tierlib import excel
    from tierlib.cli.common import UserError
    from tierlib.io import read_panel
    from tierlib.outputs import check_output, check_target

    check_output(a.out, [a.panel])
    check_target(a.out, overwrite=a.overwrite)
    panel = read_panel(a.panel, mapping=a.map)
    if panel.height + 1 > excel.EXCEL_MAX_ROWS:
        raise UserError(f"{a.out}: the ledger would have {panel.height:,} rows per scheme; an Excel sheet "
                        f"holds {excel.EXCEL_MAX_ROWS - 1:,} below its header. Write .parquet or .csv instead")
    ledger = tierlib.rate(panel, schemes)
    sheets = {s: ledger.filter(pl.col("scheme") == s).select(columns or ledger.columns)
              for s in ledger["scheme"].cast(pl.String).unique(maintain_order=True).to_list()}
    excel.write_workbook(sheets, a.out, overwrite=a.overwrite)
    print(f"wrote {ledger.height:,} ledger rows ({len(sheets)} schemes, a sheet each) to {a.out}")
    return ledger
