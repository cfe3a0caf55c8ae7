"""The files of a panel: listing a file or folder, and scanning parquet files that must agree.

The lowest layer of reading, shared by :mod:`tierlib.io` (panels), :mod:`tierlib.mapping`
(warehouse exports) and :mod:`tierlib.scale` (out-of-core rating); it imports none of them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

__all__ = ["PanelFileError", "panel_files", "scan_parquet_panel"]

_TEXTS = (pl.String, pl.Categorical, pl.Enum)


class PanelFileError(ValueError):
    """A panel file that cannot be read, or files of one panel that do not agree; names the file."""


def _hidden(p: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in p.relative_to(root).parts)


def panel_files(path: str | Path) -> list[Path]:
    """The files of a panel: the file itself, or a folder's ``*.parquet`` / ``*.csv`` files.

    Files and folders whose names start with ``.`` or ``_`` (temporaries, staging) are skipped;
    a folder mixing parquet and CSV files is refused.

    >>> from tierlib.paths import sample_panel
    >>> [f.name for f in panel_files(sample_panel())]
    ['panel.parquet']
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"panel not found: {p}")
    if p.is_file():
        if p.suffix.lower() not in (".parquet", ".csv"):
            raise PanelFileError(f"{p}: unknown panel format '{p.suffix}' (use .parquet or .csv)")
        return [p]
    files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in (".parquet", ".csv")
                   and not _hidden(f, p))
    kinds = {f.suffix.lower() for f in files}
    if not files:
        raise PanelFileError(f"{p}: no .parquet or .csv file in this folder")
    if len(kinds) > 1:
        raise PanelFileError(f"{p}: the folder mixes parquet and CSV files; keep one format per panel")
    return files


def scan_parquet_panel(files: list[Path]) -> pl.LazyFrame:
    """Scan parquet panel files after checking each footer and that all files agree (else named)."""
    schemas = []
    for f in files:
        try:
            schemas.append(pl.read_parquet_schema(f))
        except (pl.exceptions.PolarsError, OSError) as e:
            raise PanelFileError(f"{f}: not a readable parquet file ({str(e).splitlines()[0]})") from None
    first = schemas[0]
    for f, sch in zip(files[1:], schemas[1:]):
        for name in dict.fromkeys([*first, *sch]):
            a, b = first.get(name), sch.get(name)
            if a == b or (isinstance(a, _TEXTS) and isinstance(b, _TEXTS)):
                continue
            what = "customer ids are" if name == "customer_id" else f"column '{name}' is"
            raise PanelFileError(f"{what} {a or 'missing'} in {files[0]} but {b or 'missing'} in {f}; "
                                 "every file of a panel must have the same columns and types")
    if all(sch == first for sch in schemas):
        return pl.scan_parquet(files, hive_partitioning=False)
    texts = [n for n, d in first.items() if isinstance(d, _TEXTS)]
    return pl.concat([pl.scan_parquet(f).with_columns(pl.col(texts).cast(pl.String)) for f in files])
