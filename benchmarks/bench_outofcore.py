"""Benchmark out-of-core rating (``tierlib rate PANEL_DIR --out LEDGER_DIR``): time and peak
memory against input size. Not a test.

    .venv/bin/python benchmarks/bench_outofcore.py                          # 1 M and 10 M customers x 36
    .venv/bin/python benchmarks/bench_outofcore.py --customers 200000 1000000 --record

For each size, the panel is generated with ``tierlib.synth`` (every customer in network every
month, as in bench_rate.py) as a directory of parquet files, one per block of 100,000
customers, written block by block (so generating never holds the panel either), under
``benchmarks/out/ooc/`` (gitignored). Then the real command line runs in a child process:

    tierlib rate benchmarks/out/ooc/panel_<N>x36 --out benchmarks/out/ooc/ledger_<N>x36 -s all

and the child's peak resident set size (``ru_maxrss`` from ``os.wait4``) is compared with the
size the whole panel would take in memory (polars' estimate, scaled from one block). A few
customers of the written ledger are checked against in-memory ``tierlib.rate``. The ledger
is deleted after measuring, and the panel too unless ``--keep-input``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out" / "ooc"
FULL_KNOBS = {"new_join_share": 0.0, "base_hazard": 1e-9}


def generate(customers: int, months: int, seed: int) -> Path:
    """Write the panel as one parquet file per synth block (cached)."""
    import polars as pl

    from tierlib.synth import BLOCK, iter_blocks

    d = OUT / f"panel_{customers}x{months}_s{seed}"
    done = d / "_done"
    if done.exists():
        return d
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    t = time.perf_counter()
    for b, (panel, _truth) in enumerate(iter_blocks(customers, months, seed=seed, **FULL_KNOBS)):
        panel.write_parquet(d / f"part-{b:05d}.parquet")
        if b % 10 == 9:
            print(f"  generated {(b + 1) * BLOCK:,} customers ({time.perf_counter() - t:,.0f} s)", file=sys.stderr)
    done.write_text(json.dumps({"seconds": round(time.perf_counter() - t), "rows": pl.scan_parquet(
        d / "*.parquet").select(pl.len()).collect().item(), "in_memory_gb": in_memory_gb(d)}))
    return d


def in_memory_gb(panel_dir: Path) -> float:
    """What the whole panel would take in memory: one file's estimate, scaled by rows."""
    import polars as pl

    files = sorted(panel_dir.glob("*.parquet"))
    one = pl.read_parquet(files[0])
    rows = pl.scan_parquet(files).select(pl.len()).collect().item()
    return one.estimated_size() / one.height * rows / 2**30


def spot_check(panel_dir: Path, ledger_dir: Path, columns: str = "", n: int = 500) -> str:
    """The ledger of the first n customers equals in-memory rate() on them (the same columns)."""
    import polars as pl
    from polars.testing import assert_frame_equal

    import tierlib
    from tierlib.scale import read_ledger

    keys = ["scheme", "customer_id", "month"]
    panel = pl.scan_parquet(sorted(panel_dir.glob("*.parquet"))).filter(pl.col("customer_id") <= n).collect()
    got = read_ledger(ledger_dir, lazy=True).filter(pl.col("customer_id") <= n).collect()
    want = tierlib.rate(panel, "all", columns=columns.split(",") if columns else None)
    plain = pl.col(pl.Categorical).cast(pl.String)
    assert_frame_equal(got.with_columns(plain).sort(keys), want.with_columns(plain).sort(keys))
    return f"first {n} customers: ledger equals in-memory rate() ({want.height:,} rows)"


def run_cli(panel_dir: Path, ledger_dir: Path, schemes: str, partitions: int | None, columns: str | None) -> dict:
    cmd = [str(Path(sys.executable).parent / "tierlib"), "rate", str(panel_dir), "--out", str(ledger_dir),
           "-s", schemes]
    if columns:
        cmd += ["--columns", columns]
    if partitions:
        cmd += ["--partitions", str(partitions)]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    meta = json.loads((ledger_dir / "_tierlib.json").read_text())
    size = sum(f.stat().st_size for f in ledger_dir.rglob("*.parquet"))
    return {"cmd": " ".join(cmd).replace(str(ROOT) + "/", ""), "wall_s": wall, "peak_gb": ru.ru_maxrss / 2**20,
            "cpu_s": ru.ru_utime + ru.ru_stime, "ledger_gb": size / 2**30, **meta}


def child(args: list[str]) -> None:
    """Generation and checks import polars: they run in children, so that the parent stays
    small (a child's ru_maxrss starts from its parent's RSS when it is spawned)."""
    if args[0] == "generate":
        generate(*(int(x) for x in args[1:]))
    elif args[0] == "check":
        print(spot_check(Path(args[1]), Path(args[2]), *args[3:]))


def in_child(*args: str) -> str:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", *args]
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT).stdout.strip()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--_child":
        return child(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--schemes", default="all")
    ap.add_argument("--partitions", type=int, help="default: tierlib's (about 4 M panel rows each)")
    ap.add_argument("--columns", metavar="A,B", help="a compact ledger: only these columns (tierlib rate --columns)")
    ap.add_argument("--keep-input", action="store_true", help="keep the generated panels for a rerun")
    ap.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_rate import load, machine

    print(f"disk before: {shutil.disk_usage(HERE).free / 2**30:,.0f} GB free", file=sys.stderr)
    rows_out = ["| customers | panel rows | panel in memory (est.) GB | partitions | wall s | rows/s "
                "| CPU s | peak RSS GB | ledger rows | ledger on disk GB |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    notes, start_load, cmds = [], load(), []
    for n in a.customers:
        t = time.perf_counter()
        in_child("generate", str(n), str(a.months), str(a.seed))
        panel_dir = OUT / f"panel_{n}x{a.months}_s{a.seed}"
        gen = json.loads((panel_dir / "_done").read_text())
        print(f"panel {n:,} x {a.months}: {gen['rows']:,} rows (generated in {gen['seconds']:,} s; "
              f"ready in {time.perf_counter() - t:,.0f} s)", file=sys.stderr)
        ledger_dir = OUT / f"ledger_{n}x{a.months}"
        shutil.rmtree(ledger_dir, ignore_errors=True)
        r = run_cli(panel_dir, ledger_dir, a.schemes, a.partitions, a.columns)
        cmds.append(r["cmd"])
        notes.append(in_child("check", str(panel_dir), str(ledger_dir), *([a.columns] if a.columns else [])))
        rows_out.append(f"| {n:,} | {r['panel_rows']:,} | {gen['in_memory_gb']:,.1f} | {r['partitions']} "
                        f"({r['partitioning']}) | {r['wall_s']:,.0f} | {r['panel_rows'] / r['wall_s']:,.0f} | "
                        f"{r['cpu_s']:,.0f} | **{r['peak_gb']:.2f}** | {r['ledger_rows']:,} | {r['ledger_gb']:.1f} |")
        print(rows_out[-1], file=sys.stderr)
        shutil.rmtree(ledger_dir)
        if not a.keep_input:
            shutil.rmtree(panel_dir)
    m = machine()
    desc = (f"{m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, {m['os']}; python {m['python']}, "
            f"polars {m['polars']}, numba {m['numba']}, numpy {m['numpy']}, pyarrow {m['pyarrow']}")
    text = "\n".join(rows_out + ["", *[f"- {x}" for x in notes],
                                 f"- load average before / after: {start_load} / {load()}"])
    print(text)
    print(desc)
    if a.record:
        cmd = "benchmarks/bench_outofcore.py " + " ".join(x for x in sys.argv[1:] if x != "--record")
        section = (f"\n## bench_outofcore ({dt.date.today()})\n\n"
                   f"Command: `.venv/bin/python {cmd.strip()}`, which runs for each size:\n\n"
                   + "".join(f"    {c}\n" for c in cmds)
                   + f"\nMachine: {desc}\n\n{text}\n")
        with open(HERE / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write(section)


if __name__ == "__main__":
    main()
