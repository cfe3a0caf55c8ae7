"""Time `tierlib synth` (the streaming writer) and report peak memory. Not a timed test.

    .venv/bin/python benchmarks/bench_synth.py                      # 1,000,000 x 36 (the issue's size)
    .venv/bin/python benchmarks/bench_synth.py --customers 100000   # a quick run

Writes to benchmarks/out/ (gitignored). Peak memory is the process's maximum resident set
size (ru_maxrss), which includes polars' and numba's own allocations and the rating.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

import polars as pl

from tierlib.synth import BLOCK, write_panel


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "synth"))
    a = ap.parse_args()
    t = time.perf_counter()
    panel, truth = write_panel(a.out, a.customers, a.months, seed=a.seed)
    secs = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    rows = pl.scan_parquet(panel).select(pl.len()).collect().item()
    size = (panel.stat().st_size + truth.stat().st_size) / 2**20
    print(f"synth {a.customers:,} customers x {a.months} months -> {rows:,} panel rows")
    print(f"seconds: {secs:.1f}  ({rows / secs / 1e6:.2f} M rows/s)")
    print(f"peak memory (maxrss): {peak_mb:,.0f} MiB")
    print(f"parquet size (panel + truth): {size:,.1f} MiB")
    print(f"block: {BLOCK:,} customers; cores: {os.cpu_count()}; python {sys.version.split()[0]}; "
          f"polars {pl.__version__}; {platform.machine()}")


if __name__ == "__main__":
    main()
