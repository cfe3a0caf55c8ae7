"""Benchmark ``tierlib.rate`` at scale: every scheme, wall time, rows/s, peak memory. Not a test.

    .venv/bin/python benchmarks/bench_rate.py                       # 1,000,000 x 36 (the issue's size)
    .venv/bin/python benchmarks/bench_rate.py --customers 100000    # a quick run
    .venv/bin/python benchmarks/bench_rate.py --record              # also append the results to RESULTS.md

The panel comes from ``tierlib.synth`` (streamed block by block, the same draws as
``make_panel``) and is cached as parquet under ``benchmarks/out/bench/`` (gitignored). By
default nobody churns and nobody joins during the panel, so the panel has exactly
customers x months rows (``--churn`` keeps the generator's default knobs: fewer rows).

Every measurement runs in a fresh child process, and its peak memory is that child's
maximum resident set size (``ru_maxrss`` from ``os.wait4``): it includes polars' native
buffers and numba, which ``tracemalloc`` would not see. Three kinds of child:

- ``all``: read the panel, validate once, rate the six schemes one after the other on the
  shared validated frame (``tierlib.rating._iter_ledgers``, the internal path of
  ``rate(panel, [many])``), dropping each ledger once it is built: per-scheme seconds and the
  total. A six-scheme ledger of 36 M panel rows (216 M rows) does not fit in 8 GB, so the
  benchmark does not concatenate them (``tierlib rate --out DIR`` writes them partition by
  partition instead, see bench_outofcore.py).
- ``scheme``: ``tierlib.rate(panel, scheme)`` alone, its own validation included: the peak
  memory of rating one scheme.
- ``reference``: the row-by-row reference implementation (``tests/reference.py``) on a
  sample of customers, for the speed ratio.

Times are wall seconds; CPU seconds (user + system of the child) are shown too, because this
machine is shared and the load average is recorded beside the results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "bench"
FULL_KNOBS = {"new_join_share": 0.0, "base_hazard": 1e-9}  # every customer in network every month


# --- the panel ---------------------------------------------------------------------------

def panel_path(customers: int, months: int, seed: int, *, churn: bool, string_ids: bool) -> Path:
    name = f"panel_{customers}x{months}_s{seed}{'' if churn else '_full'}{'_str' if string_ids else ''}.parquet"
    return OUT / name


def ensure_panel(customers: int, months: int, seed: int, *, churn: bool, string_ids: bool) -> Path:
    """Generate (once) and cache the benchmark panel; return its path."""
    path = panel_path(customers, months, seed, churn=churn, string_ids=string_ids)
    if path.exists():
        return path
    import polars as pl
    import pyarrow.parquet as pq

    from tierlib.synth import iter_blocks

    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    t = time.perf_counter()
    writer = None
    knobs = {} if churn else FULL_KNOBS
    try:
        for panel, _truth in iter_blocks(customers, months, seed=seed, **knobs):
            if string_ids:
                panel = panel.with_columns(pl.col("customer_id").cast(pl.String).str.zfill(10))
            table = panel.to_arrow()
            writer = writer or pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    tmp.rename(path)
    print(f"generated {path.name} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return path


# --- children ----------------------------------------------------------------------------

def child(args: list[str]) -> None:
    """Run one measurement and print its result as JSON on stdout."""
    import polars as pl

    import tierlib
    from tierlib.rating import CHUNK_ROWS, _chunks, _rate_validated, _resolve_schemes

    kind, path = args[0], args[1]
    if kind == "generate":
        c, m, seed, churn, string_ids = (int(x) for x in args[2:])
        ensure_panel(c, m, seed, churn=bool(churn), string_ids=bool(string_ids))
        print(json.dumps({"schemes": [s.key for s in _resolve_schemes("all")]}))
        return
    t = time.perf_counter()
    panel = pl.read_parquet(path)
    res: dict = {"read_s": time.perf_counter() - t, "rows": panel.height}
    if kind == "all":
        schemes = _resolve_schemes(args[2].split(","))
        t = time.perf_counter()  # numba kernels: load the compiled cache once
        tierlib.rate(panel.head(100), schemes)
        res["warmup_s"] = time.perf_counter() - t
        t = time.perf_counter()
        valid = tierlib.validate(panel)
        res["validate_s"] = time.perf_counter() - t
        t = time.perf_counter()  # what rate(panel, [many]) shares between schemes
        parts = _chunks(tierlib.engine.base(valid.lazy()).collect(), CHUNK_ROWS)
        res["base_s"] = time.perf_counter() - t
        res["schemes"] = {}
        for s in schemes:
            t = time.perf_counter()
            ledger = pl.concat([_rate_validated(p.lazy(), s, based=True).collect() for p in parts])
            res["schemes"][s.key] = {"s": time.perf_counter() - t, "rows": ledger.height}
            del ledger
        res["total_s"] = (res["warmup_s"] + res["validate_s"] + res["base_s"]
                          + sum(v["s"] for v in res["schemes"].values()))
    elif kind == "scheme":
        t = time.perf_counter()
        ledger = tierlib.rate(panel, args[2])
        res["s"] = time.perf_counter() - t
        res["ledger_rows"] = ledger.height
    elif kind == "reference":
        sys.path.insert(0, str(ROOT))
        from tests.reference import reference_rate

        n = int(args[3])
        ids = panel["customer_id"].unique(maintain_order=True).head(n)
        sample = panel.filter(pl.col("customer_id").is_in(ids.implode()))
        res["rows"] = sample.height
        t = time.perf_counter()
        reference_rate(sample, args[2])
        res["ref_s"] = time.perf_counter() - t
        t = time.perf_counter()
        tierlib.rate(sample, args[2])
        res["engine_s"] = time.perf_counter() - t
    print(json.dumps(res))


def run_child(*args: str) -> dict:
    """Run ``child`` in a fresh interpreter; add its peak RSS and CPU seconds."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    out = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {' '.join(args)} failed with exit code {proc.returncode}")
    res = json.loads(out.decode().strip().splitlines()[-1])
    res["peak_mb"] = ru.ru_maxrss / 1024  # KiB on Linux
    res["cpu_s"] = ru.ru_utime + ru.ru_stime
    return res


# --- machine -----------------------------------------------------------------------------

def machine() -> dict:
    from importlib.metadata import version

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                  if x.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "ram_gb": round(mem_kb / 2**20, 1), "cpu": cpu,
            "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
            **{k: version(k) for k in ("polars", "numba", "numpy", "pyarrow")}}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- main --------------------------------------------------------------------------------

def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        return child(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schemes", default="all", help="comma-separated scheme ids (default all)")
    ap.add_argument("--churn", action="store_true", help="keep synth's churn and in-panel joins")
    ap.add_argument("--string-ids", action="store_true", help="customer_id as zero-padded strings")
    ap.add_argument("--reference-customers", type=int, default=2000)
    ap.add_argument("--no-single", action="store_true", help="skip the one-scheme-per-process runs")
    ap.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()

    # the parent imports no polars: a child's ru_maxrss starts from its parent's RSS at spawn
    path = panel_path(a.customers, a.months, a.seed, churn=a.churn, string_ids=a.string_ids)
    known = run_child("generate", str(path), *(str(int(x)) for x in (
        a.customers, a.months, a.seed, a.churn, a.string_ids)))["schemes"]
    schemes = known if a.schemes == "all" else a.schemes.split(",")
    start_load = load()
    t0 = time.perf_counter()
    every = run_child("all", str(path), ",".join(schemes))
    single = {} if a.no_single else {s: run_child("scheme", str(path), s) for s in schemes}
    ref = {s: run_child("reference", str(path), s, str(a.reference_customers)) for s in schemes}
    wall = time.perf_counter() - t0
    rows = every["rows"]

    lines = [
        f"panel: {a.customers:,} customers x {a.months} months = {rows:,} rows "
        f"({'synth defaults' if a.churn else 'no churn, no in-panel joins'}; "
        f"{'string' if a.string_ids else 'integer'} customer ids; seed {a.seed}); "
        f"parquet read {every['read_s']:.1f} s (not counted)",
        "",
        "| scheme | panel rows | wall s (shared validation) | rows/s | rate() alone, own validation: wall s | peak RSS MB | reference rows/s | engine / reference |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.append(f"| warm-up (numba cache, tiny panel) | | {every['warmup_s']:.1f} | | | | | |")
    lines.append(f"| validate (once) | {rows:,} | {every['validate_s']:.1f} | {rows / every['validate_s']:,.0f} | | | | |")
    lines.append(f"| base columns (once) | {rows:,} | {every['base_s']:.1f} | {rows / every['base_s']:,.0f} | | | | |")
    for s in schemes:
        e, one, r = every["schemes"][s], single.get(s), ref[s]
        rps = rows / e["s"]
        ref_rps = r["rows"] / r["ref_s"]
        alone = f"{one['s']:.1f} | {one['peak_mb']:,.0f}" if one else " | "
        lines.append(f"| {s} | {e['rows']:,} | {e['s']:.1f} | {rps:,.0f} | {alone} | "
                     f"{ref_rps:,.0f} | {rps / ref_rps:,.0f}x |")
    total = every["total_s"]
    lines += [
        f"| **all six, validate once** | {rows:,} each | **{total:.1f}** | {rows * len(schemes) / total:,.0f} "
        f"| | **{every['peak_mb']:,.0f}** | | |",
        "",
        f"all-schemes child: {every['cpu_s']:.0f} CPU s (user+sys) for {total:.1f} wall s of rating; "
        f"reference sample: {ref[schemes[0]]['rows']:,} rows ({a.reference_customers:,} customers)",
        f"load average before / after: {start_load} / {load()}; benchmark wall {wall:.0f} s",
    ]
    m = machine()
    desc = (f"{m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; python {m['python']}, "
            f"polars {m['polars']}, numba {m['numba']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}")
    cmd = "benchmarks/bench_rate.py " + " ".join(x for x in sys.argv[1:] if x != "--record")
    text = "\n".join(lines)
    print(text)
    print(desc)
    if a.record:
        section = (f"\n## bench_rate ({dt.date.today()}, {rows:,} rows)\n\n"
                   f"Command: `.venv/bin/python {cmd.strip()}`\n\nMachine: {desc}\n\n{text}\n")
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write(section)


if __name__ == "__main__":
    main()
