"""What the command bodies share: the one-line error, the panel reader, scheme lists, table outputs.

Kept apart from :mod:`tierlib.cli` (the parser) so that the command bodies
(:mod:`~tierlib.cli.warehouse`, :mod:`~tierlib.cli.analyses`) import it without importing the
parser that imports them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tierlib.io import read_panel  # (one reader of panel files)


__all__ = ["UserError", "read_panel", "schemes_arg", "write_frame"]


class UserError(Exception):
    """A mistake in the command line or its inputs: reported in one line, exit code 2."""


def write_frame(df: pl.DataFrame, path: str | Path, *, inputs=(), overwrite: bool = False) -> None:
    """Write a table to ``.parquet`` or ``.csv`` atomically (tierlib.outputs): never over an input,
    never over a file tierlib did not write, into an existing folder only."""
    from tierlib.outputs import atomic_file, check_output

    p = Path(path)
    if p.suffix not in (".csv", ".parquet"):
        raise UserError(f"{p}: unknown output format '{p.suffix}' (use .parquet or .csv)")
    check_output(p, inputs)
    with atomic_file(p, overwrite=overwrite) as tmp:
        if p.suffix == ".csv":
            df.with_columns(pl.col(pl.Categorical, pl.Enum).cast(pl.String)).write_csv(tmp)
        else:
            df.write_parquet(tmp)


def schemes_arg(values: list[str] | None) -> list[str]:
    """Scheme ids from repeated or comma-separated ``--scheme`` values; none given: ``["all"]``.

    >>> schemes_arg(["telecom_star,unicom_vip", " mobile_gotone"]), schemes_arg(None)
    (['telecom_star', 'unicom_vip', 'mobile_gotone'], ['all'])
    """
    out: list[str] = []
    for v in values or ["all"]:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out
