"""Rate a parquet panel larger than memory, one partition of customers at a time.

A customer's tier depends on that customer's rows only, so a panel can be cut into
partitions of whole customers, each rated in memory on its own. :func:`rate_parquet`

1. plans the partitions. When the input's row groups are ordered by ``customer_id`` (their
   min/max statistics do not overlap, as a panel written customer by customer is), partition
   *k* is the range of ids ``[lo_k, hi_k)`` and is read with a filter that skips the other
   row groups. Otherwise the input is first hash-partitioned by ``customer_id`` into a
   staging directory in one streaming pass (``_staging/``, removed at the end);
2. reads each partition, validates it and rates it under every scheme on one shared validated
   frame (:func:`tierlib.rating._iter_ledgers`);
3. writes ``out_dir/<scheme>/part-<k>.parquet`` (one directory per scheme, ``:`` in a
   variant's key written as ``-``), each file with exactly the ledger columns of
   docs/CONTRACT.md, and a ``_tierlib.json`` manifest last, all in a hidden partial folder
   (:mod:`tierlib.partial`: resumable after a kill) published by one rename when complete
   (:mod:`tierlib.outputs`).

A customer is never split (range or hash of the id), so the ledger equals in-memory
:func:`tierlib.rate` up to row order. Peak memory follows the partition size, not the input
size: about ``ROWS_PER_PARTITION`` panel rows are in memory at a time.
"""

from __future__ import annotations

import glob
import json
import math
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import polars as pl

from tierlib import partial
from tierlib.params import Scheme
from tierlib.rating import SchemeLike, _iter_ledgers, _resolve_schemes, ledger_columns

__all__ = ["rate_parquet", "read_ledger", "plan_partitions", "ROWS_PER_PARTITION"]

#: panel rows per partition when ``partitions`` is not given: rating six schemes this way
#: peaks near 2.1 GB (range partitions) to 2.6 GB (hash) whatever the input size
#: (benchmarks/RESULTS.md), well inside an 8 GB budget.
ROWS_PER_PARTITION = 4_000_000
MANIFEST = "_tierlib.json"
_SUMMARY = ["scheme", "month", "rank", "tier"]  # the ledger columns the closing summary reads
STAGING = "_staging"
CID = "customer_id"


def _files(src: str | Path) -> list[Path]:
    from tierlib.sources import PanelFileError, panel_files, scan_parquet_panel

    p = Path(src)
    if p.exists():
        files = panel_files(p)
    else:
        files = sorted(Path(x) for x in glob.glob(str(src), recursive=True))
    if not files:
        raise FileNotFoundError(f"no parquet file at {src}")
    if any(f.suffix.lower() != ".parquet" for f in files):
        raise PanelFileError(f"{src}: partitioned rating reads parquet (a file or a folder of files)")
    scan_parquet_panel(files)  # every footer readable, every file with the same columns and types
    return files


def _row_groups(files: list[Path]) -> tuple[int, list[tuple[int, object, object]]]:
    """Total rows and, per row group in file order, (rows, min id, max id) from the footers."""
    import pyarrow.parquet as pq

    total, groups = 0, []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        if CID not in names:
            raise ValueError(f"{f}: no column '{CID}'")
        j = names.index(CID)
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            st = rg.column(j).statistics
            ok = st is not None and st.has_min_max and st.null_count == 0
            groups.append((rg.num_rows, st.min if ok else None, st.max if ok else None))
            total += rg.num_rows
    return total, groups


def plan_partitions(src: str | Path, partitions: int | None = None) -> tuple[int, list | None]:
    """(number of partitions, id boundaries or None).

    Boundaries ``[b_1 .. b_{n-1}]`` (partition k holds ``b_k <= id < b_{k+1}``) when the row
    groups are ordered by ``customer_id`` (an integer or string column without nulls); None
    when the input must be hash-partitioned.
    """
    files = _files(src)
    total, groups = _row_groups(files)
    if partitions is not None and partitions < 1:
        raise ValueError(f"partitions must be >= 1, got {partitions}")
    n = partitions or max(1, math.ceil(total / ROWS_PER_PARTITION))
    dtype = pl.scan_parquet(files[0]).collect_schema().get(CID)
    ordered = (dtype == pl.String or dtype.is_integer()) and all(g[1] is not None for g in groups) and all(
        a[2] <= b[1] for a, b in zip(groups, groups[1:]))
    if n == 1 or not ordered:
        return n, None
    # cut at row-group starts, near equal row counts; equal ids across a cut stay together
    # because the filter is on the id value, not on the row group
    bounds, acc, target = [], 0, total / n
    for rows, lo, _ in groups:
        if acc >= target * (len(bounds) + 1) and (not bounds or lo > bounds[-1]) and len(bounds) < n - 1:
            bounds.append(lo)
        acc += rows
    if len(bounds) + 1 < n:  # too few row groups to cut n ranges: hash instead
        return n, None
    return n, bounds


def _range_filter(bounds: list, k: int) -> pl.Expr:
    cid = pl.col(CID)
    out = pl.lit(True)
    if k > 0:
        out = out & (cid >= bounds[k - 1])
    if k < len(bounds):
        out = out & (cid < bounds[k])
    return out


class _Progress:
    """A plain one-line progress bar on stderr (redrawn on a terminal, a line per step else)."""

    def __init__(self, total: int, what: str, *, enabled: bool):
        self.total, self.what, self.enabled = total, what, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.start = self.last = time.perf_counter()

    def update(self, done: int, rows: int, *, final: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not (final or self.tty or now - self.last >= 5.0):
            return
        self.last = now
        secs = now - self.start
        rate = rows / secs if secs > 0 else 0.0
        left = secs / done * (self.total - done) if done else 0.0
        bar = "#" * round(20 * done / self.total) + "." * (20 - round(20 * done / self.total))
        line = (f"{self.what} [{bar}] {done}/{self.total} partitions, {rows:,} rows, "
                f"{rate / 1e6:.2f} M rows/s, {secs:,.0f} s" + ("" if final else f", ~{left:,.0f} s left"))
        print(("\r" + line) if self.tty else line, end="\n" if final or not self.tty else "",
              file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        if self.enabled:
            print(text, file=sys.stderr, flush=True)


def _scheme_dir(s: Scheme) -> str:
    return s.key.replace(":", "-")


def rate_parquet(src: str | Path, schemes: SchemeLike | Iterable[SchemeLike], out_dir: str | Path, *,
                 partitions: int | None = None, progress: bool = True, overwrite: bool = False,
                 columns: Iterable[str] | None = None) -> dict:
    """Rate a parquet panel (file, directory or glob) partition by partition into ``out_dir``.

    Parameters
    ----------
    src : a parquet file, a directory of parquet files, or a glob; may be larger than memory.
    schemes : as for :func:`tierlib.rate` (an id, ``"all"``, a Scheme, or a list of them).
    out_dir : directory for the ledger: ``<scheme>/part-<k>.parquet`` and ``_tierlib.json``.
        Built in the hidden sibling ``.<name>.tierlib-partial`` and published by one rename when
        complete. A killed run restarted with the same arguments resumes from the partitions
        already complete (manifest and row counts checked); other arguments are refused, naming
        the difference. A folder holding files tierlib did not write is always refused.
    overwrite : replace a previous ledger written by this function (only that).
    partitions : number of customer partitions; default ``ceil(rows / ROWS_PER_PARTITION)``.
    progress : draw a progress bar on stderr.
    columns : a compact ledger: only these ledger columns in the part files (default all, see
        :func:`tierlib.rate`); each scheme has its own folder, so ``scheme`` is not required.

    Returns
    -------
    The manifest (also written to ``out_dir/_tierlib.json``): schemes, partitions, how they
    were cut, panel rows and ledger rows.

    Examples
    --------
    >>> import tempfile, datetime as dt, polars as pl
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> months = [dt.date(2024, m, 1) for m in range(1, 9)]
    >>> pl.DataFrame({"customer_id": ["c1"] * 8 + ["c2"] * 8, "month": months * 2,
    ...               "join_month": dt.date(2024, 1, 1), "billed": [150.0] * 8 + [30.0] * 8}
    ...              ).write_parquet(d / "panel.parquet")
    >>> m = rate_parquet(d / "panel.parquet", "unicom_vip", d / "ledger", partitions=2, progress=False)
    >>> m["ledger_rows"], m["partitions"]
    (16, 2)
    >>> last = read_ledger(d / "ledger").filter(pl.col("month") == dt.date(2024, 8, 1))
    >>> last.sort("customer_id")["tier"].to_list()
    ['silver', 'none']
    >>> shutil.rmtree(d)
    """
    from tierlib.outputs import check_output, output_lock, publish_dir

    plan = _resolve_schemes(schemes)
    cols = ledger_columns(columns, 1)
    # the closing summary counts tiers in the latest month: built, never written unless asked
    built = None if cols is None else cols + [c for c in _SUMMARY if c not in cols]
    out = Path(out_dir)
    files = _files(src)
    check_output(out, [src] if Path(src).exists() else files)
    with output_lock(out):
        n, bounds = plan_partitions(src, partitions)
        args = {"schemes": [s.key for s in plan], "partitions": n,
                "partitioning": "none" if n == 1 else "hash" if bounds is None else "range",
                "bounds": None if bounds is None else [str(b) for b in bounds],
                **({} if cols is None else {"columns": cols}),
                "source": [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]}
        partial.check_previous(out, args, overwrite)
        work = out.parent / f".{out.name}.tierlib-partial"
        state = partial.resume(work, args, overwrite)
        bar = _Progress(n, "rating", enabled=progress)
        t0 = time.perf_counter()
        staging = work / STAGING
        if bounds is None and n > 1 and not state["staged"]:
            if staging.exists():
                shutil.rmtree(staging)  # an interrupted staging pass of ours: redo it whole
            bar.note(f"partitioning {len(files)} file(s) by customer into {n} partitions (one streaming pass) ...")
            _hash_partition(files, staging, n)
            state["staged"] = True
            partial.save(work, state)
            bar.note(f"partitioned in {time.perf_counter() - t0:,.0f} s")
        for s in plan:
            (work / _scheme_dir(s)).mkdir(exist_ok=True)
        done = state["parts"]
        if done:
            bar.note(f"resuming: {len(done)} of {n} partitions already complete in {work}")
        bar.start = time.perf_counter()
        writer = ThreadPoolExecutor(max_workers=1)
        pending: list = []
        try:
            for k in range(n):
                if str(k) in done:
                    continue
                panel = _read_partition(files, staging, bounds, n, k)
                ledgers, rec = [], {"rows": {}, "panel_rows": 0, "latest": []}
                if panel is not None and panel.height:
                    ledgers = [(s, ledger) for s, ledger in zip(plan, _iter_ledgers(_validate(panel), plan, built))]
                    rec["panel_rows"] = panel.height
                    rec["latest"] = [r for _, lg in ledgers for r in _latest_tiers(lg).with_columns(
                        pl.col("month").cast(pl.String)).to_dicts()]
                    if cols is not None and built != cols:
                        ledgers = [(s, lg.select(cols)) for s, lg in ledgers]
                del panel
                for f in pending:
                    f.result()
                pending = [writer.submit(partial.write_part, ledger, work / _scheme_dir(s), k) for s, ledger in ledgers]
                rec["rows"] = {_scheme_dir(s): ledger.height for s, ledger in ledgers}
                del ledgers
                for f in pending:  # a partition counts as complete only once its parts are on disk
                    f.result()
                done[str(k)] = rec
                partial.save(work, state)
                bar.update(k + 1, sum(r["panel_rows"] for r in done.values()))
        finally:
            writer.shutdown(wait=True, cancel_futures=True)
        panel_rows = sum(r["panel_rows"] for r in done.values())
        bar.update(n, panel_rows, final=True)
        if staging.exists():
            shutil.rmtree(staging)
        latest = [pl.DataFrame(r["latest"]).with_columns(pl.col("month").str.to_date())
                  for r in done.values() if r["latest"]]
        manifest = {**args, "dirs": [_scheme_dir(s) for s in plan], "complete": True, "panel_rows": panel_rows,
                    "ledger_rows": sum(sum(r["rows"].values()) for r in done.values()),
                    "seconds": round(time.perf_counter() - t0, 1), **_latest_summary(latest)}
        manifest["source"] = [f for f, _, _ in args["source"]]
        manifest["args"] = args
        publish_dir(work, out, overwrite=overwrite, manifest=manifest)
    return manifest


def _hash_partition(files: list[Path], staging: Path, n: int) -> None:
    """Write ``staging/_part=<k>/*.parquet``, k = hash(customer_id) mod n, in one streaming pass."""
    part = (pl.col(CID).hash(seed=0) % n).alias("_part")
    if hasattr(pl, "PartitionBy"):  # polars' streaming partitioned sink (unstable API)
        pl.scan_parquet(files).with_columns(part).sink_parquet(
            pl.PartitionBy(staging, key="_part", include_key=False), mkdir=True)
        return
    import pyarrow.dataset as ds  # fallback: batch by batch, a file per batch and partition

    for j, batch in enumerate(ds.dataset([str(f) for f in files], format="parquet").to_batches()):
        frame = pl.from_arrow(batch).with_columns(part)
        for (k,), piece in frame.partition_by("_part", as_dict=True, include_key=False).items():
            d = staging / f"_part={k}"
            d.mkdir(parents=True, exist_ok=True)
            piece.write_parquet(d / f"batch-{j:06d}.parquet")


def _latest_tiers(ledger: pl.DataFrame) -> pl.DataFrame:
    """Customers per (scheme, tier) in the ledger's latest month (a few rows)."""
    last = ledger.filter(pl.col("month") == pl.col("month").max())
    return (last.group_by("scheme", "month", "rank", "tier").agg(customers=pl.len())
            .with_columns(pl.col("scheme", "tier").cast(pl.String)))


def _latest_summary(parts: list[pl.DataFrame]) -> dict:
    """Tier counts in the panel's latest month, from the partitions' own latest months.

    A partition whose latest month is earlier has no customer in the panel's latest month,
    so summing the partitions at the overall latest month counts every customer once, without
    reading the ledger back (which at billions of rows would not fit in memory).
    """
    if not parts:
        return {"latest_month": None, "latest_month_tiers": []}
    counts = pl.concat(parts)
    top = counts["month"].max()
    tiers = (counts.filter(pl.col("month") == top).group_by("scheme", "rank", "tier")
             .agg(pl.col("customers").sum()).sort("scheme", "rank"))
    return {"latest_month": str(top), "latest_month_tiers": tiers.to_dicts()}


def _read_partition(files: list[Path], staging: Path, bounds: list | None, n: int, k: int
                    ) -> pl.DataFrame | None:
    if bounds is not None:
        return pl.scan_parquet(files).filter(_range_filter(bounds, k)).collect()
    if n == 1:
        return pl.read_parquet(files)
    pdir = staging / f"_part={k}"
    if not pdir.exists():  # no customer hashed here
        return None
    return pl.read_parquet(sorted(pdir.rglob("*.parquet")), hive_partitioning=False)


def _validate(panel: pl.DataFrame) -> pl.DataFrame:
    from tierlib.panel import _validate as validate

    return validate(panel, text=False)  # as rate(): brand, province cast where a scheme reads them


def read_ledger(out_dir: str | Path, scheme: str | None = None, *, lazy: bool = False
                ) -> pl.DataFrame | pl.LazyFrame:
    """Read a ledger written by :func:`rate_parquet` (all schemes, or one)."""
    out = Path(out_dir)
    try:
        meta = json.loads((out / MANIFEST).read_text())
        meta["schemes"], meta["dirs"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ValueError(f"{out} holds no complete tierlib ledger (no readable {MANIFEST})") from None
    dirs = dict(zip(meta["schemes"], meta["dirs"]))
    if scheme is not None and scheme not in dirs:
        raise ValueError(f"scheme '{scheme}' is not in the ledger at {out} (has: {', '.join(dirs)})")
    if scheme is None and len(dirs) > 1 and "scheme" not in meta.get("columns", ["scheme"]):
        raise ValueError(f"the compact ledger at {out} has no 'scheme' column: read one scheme at a time "
                         f"(scheme=, one of {', '.join(dirs)})")
    pick = [dirs[scheme]] if scheme else list(dirs.values())
    files = [f for d in pick for f in sorted((out / d).glob("part-*.parquet"))]
    if not files:
        lf = pl.LazyFrame()
    else:
        lf = pl.scan_parquet(files, hive_partitioning=False)
    return lf if lazy else lf.collect()
