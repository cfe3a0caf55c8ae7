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


# --- the anchor: a single-pass compiled kernel for telecom_star (issue 15) ----------------

def _anchor_kernels():
    """The anchor's numba kernels (built on first use: the parent process imports no numba)."""
    import numba
    import numpy as np

    @numba.njit(cache=True, nogil=True)
    def month_index(days):  # days since 1970-01-01 -> year * 12 + month - 1
        # civil-from-days once per distinct day in the column's range, then a table lookup
        lo, hi = days.min(), days.max()
        table = np.empty(hi - lo + 1, np.int32)
        for d in range(lo, hi + 1):
            z = d + 719468
            era = (z if z >= 0 else z - 146096) // 146097
            doe = z - era * 146097
            yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
            doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
            mp = (5 * doy + 2) // 153
            m = mp + 3 if mp < 10 else mp - 9
            y = yoe + era * 400 + (1 if m <= 2 else 0)
            table[d - lo] = y * 12 + m - 1
        out = np.empty(days.shape[0], np.int32)
        for r in range(days.shape[0]):
            out[r] = table[days[r] - lo]
        return out

    @numba.njit(cache=True, nogil=True)
    def star(first, t, tj, billed, susp, seg_ok, n_mobile, n_fixed, n_broadband, n_itv, thr, n, ppy, ppt, pps,
             max_m, max_f, max_b, max_i, validity, resets):
        # every ledger column of telecom_star in one pass over rows sorted by customer and month
        N = t.shape[0]
        K = thr.shape[0]
        eligible = np.empty(N, np.bool_)
        score = np.empty(N, np.float64)
        assessed = np.empty(N, np.int8)
        rank = np.empty(N, np.int8)
        floor = np.empty(N, np.float64)
        until = np.empty(N, np.int32)
        rerated = np.empty(N, np.bool_)
        status = np.empty(N, np.int8)
        nxt = np.empty(N, np.int8)
        to_next = np.empty(N, np.float64)
        to_keep = np.empty(N, np.float64)
        complete = np.empty(N, np.bool_)
        t0 = 0
        start = 0
        held, held_until = 0, -1
        for r in range(N):
            if first[r]:
                t0, start, held, held_until = t[r], r, 0, -1
            i = r - start
            tenure = t[r] - tj[r]
            el = seg_ok[r] and n_mobile[r] <= max_m and n_fixed[r] <= max_f and n_broadband[r] <= max_b \
                and n_itv[r] <= max_i
            sb = 0.0
            ss = 0.0
            for j in range(r - min(n, i), r):  # the last n completed months, oldest first
                sb += billed[j]
                ss += susp[j]
            sb = np.rint(sb * 100.0) / 100.0  # money in fen (docs/CONTRACT.md)
            ss = np.rint(ss * 100.0) / 100.0
            sc = sb * ppy + (float(tenure * ppt) if n_mobile[r] > 0 else 0.0) + ss * pps
            a = 0
            if el and tenure > 0:
                for k in range(K, 0, -1):
                    if sc >= thr[k - 1]:
                        a = k
                        break
            # validity holding (RULES.md §2)
            rr = el and held > 0 and held_until >= 0 and t[r] == held_until + 1
            if not el:
                held, held_until = 0, -1
            elif held > 0 and t[r] <= held_until:
                if a > held:
                    held = a
                    if resets:
                        held_until = t[r] + validity - 1
            else:
                held = a
                held_until = t[r] + validity - 1 if a > 0 else -1
            eligible[r] = el
            score[r] = sc
            assessed[r] = a
            rank[r] = held
            rerated[r] = rr
            until[r] = held_until if held > 0 and held_until >= 0 else -1
            floor[r] = thr[held - 1] if held > 0 else np.nan
            to_keep[r] = sc - thr[held - 1] if held > 0 else np.nan
            if el and held < K:
                nxt[r] = held + 1
                to_next[r] = max(thr[held] - sc, 0.0)
            else:
                nxt[r] = -1
                to_next[r] = np.nan
            status[r] = 0 if held == 0 else 2
            complete[r] = max(t[r] - n, tj[r]) >= t0
        return eligible, score, assessed, rank, floor, until, rerated, status, nxt, to_next, to_keep, complete

    @numba.njit(cache=True, nogil=True)
    def days_of(t):  # month index -> days since 1970-01-01 of its 1st; -1 stays a null marker
        out = np.empty(t.shape[0], np.int32)
        for r in range(t.shape[0]):
            if t[r] < 0:
                out[r] = 0
                continue
            y, m = t[r] // 12, t[r] % 12 + 1
            y -= m <= 2
            era = (y if y >= 0 else y - 399) // 400
            yoe = y - era * 400
            mp = m + 9 if m <= 2 else m - 3
            doe = yoe * 365 + yoe // 4 - yoe // 100 + (153 * mp + 2) // 5
            out[r] = era * 146097 + doe - 719468
        return out

    return month_index, star, days_of


def anchor_star(panel):
    """telecom_star's ledger from a panel sorted by customer and month with contiguous months
    (as the benchmark's is), in one compiled pass: the 18 columns and dtypes of docs/CONTRACT.md.
    No validation and no generality: the floor tierlib.rate is measured against."""
    import numpy as np
    import polars as pl
    import pyarrow as pa

    from tierlib.schemefiles import load_scheme

    month_index, star, days_of = _anchor_kernels()
    s = load_scheme("telecom_star")
    v = s.value
    e = "eligibility."

    def arr(name, dtype):
        return panel.get_column(name).cast(dtype).to_numpy()

    def nullable(values, valid, kind):
        bits = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
        return pl.Series(pa.Array.from_buffers(kind, len(values), [bits, pa.py_buffer(values)]))

    def labels(codes, names):
        idx = nullable(np.maximum(codes, 0).astype(np.uint32), codes >= 0, pa.uint32())
        return pl.Series(names, dtype=pl.Categorical).gather(idx)

    cid = panel.get_column("customer_id")
    first = np.ones(panel.height, np.bool_)
    ids = cid.to_numpy()
    first[1:] = ids[1:] != ids[:-1]
    seg = panel.get_column("segment")
    seg_ok = seg.cast(pl.String).is_in(v(e + "segments")).to_numpy() if not isinstance(seg.dtype, pl.Enum) else \
        np.isin(seg.to_physical().to_numpy(), [seg.dtype.categories.to_list().index(x) for x in v(e + "segments")])
    month = panel.get_column("month")
    t = month_index(month.to_physical().to_numpy())
    tj = month_index(panel.get_column("join_month").to_physical().to_numpy())
    thr = np.array([float(v(f"thresholds.{x}")) for x in s.tiers])
    (eligible, score, assessed, rank, floor, until, rerated, status, nxt, to_next, to_keep, complete) = star(
        first, t, tj, arr("billed", pl.Float64), arr("suspensions", pl.Float64), seg_ok,
        arr("n_mobile", pl.Int32), arr("n_fixed", pl.Int32), arr("n_broadband", pl.Int32), arr("n_itv", pl.Int32),
        thr, v("window_months"), float(v("points_per_yuan")), v("points_per_tenure_month"),
        float(v("points_per_suspension")), v(e + "max_mobile"), v(e + "max_fixed"), v(e + "max_broadband"),
        v(e + "max_itv"), v("validity_months"), bool(v("upgrade_resets")))
    ladder = list(s.ladder)
    return pl.DataFrame([
        cid, month, pl.Series("scheme", [s.key], dtype=pl.Categorical).gather(np.zeros(panel.height, np.uint32)),
        pl.Series("eligible", eligible), pl.Series("score", score), labels(assessed, ladder).alias("assessed"),
        pl.Series("assessed_rank", assessed), labels(rank, ladder).alias("tier"), pl.Series("rank", rank),
        nullable(floor, ~np.isnan(floor), pa.float64()).alias("floor"),
        nullable(days_of(until), until >= 0, pa.date32()).alias("valid_until"), pl.Series("rerated", rerated),
        labels(status, ["none", "frozen", "active"]).alias("status"), labels(nxt, ladder).alias("next_tier"),
        nullable(to_next, ~np.isnan(to_next), pa.float64()).alias("to_next"),
        nullable(to_keep, ~np.isnan(to_keep), pa.float64()).alias("to_keep"),
        pl.Series("window_complete", complete), pl.repeat(None, panel.height, dtype=pl.String, eager=True).alias("flag"),
    ])


# --- children ----------------------------------------------------------------------------

def child(args: list[str]) -> None:
    """Run one measurement and print its result as JSON on stdout."""
    import polars as pl

    import tierlib
    from tierlib.rating import CHUNK_ROWS, _chunks, _rate_validated, _resolve_schemes, declared_columns

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
        parts = _chunks(tierlib.engine.base(valid.lazy(), declared_columns(schemes)).collect(), CHUNK_ROWS)
        res["base_s"] = time.perf_counter() - t
        res["schemes"] = {}
        for s in schemes:
            t = time.perf_counter()
            ledger = pl.concat([_rate_validated(p.lazy(), s, based=True).collect() for p in parts])
            res["schemes"][s.key] = {"s": time.perf_counter() - t, "rows": ledger.height}
            del ledger
        res["total_s"] = (res["warmup_s"] + res["validate_s"] + res["base_s"]
                          + sum(v["s"] for v in res["schemes"].values()))
    elif kind == "anchor":  # rate() against the single-pass kernel, alternating, in one process
        from polars.testing import assert_frame_equal

        anchor_star(panel.head(1000)), tierlib.rate(panel.head(1000), "telecom_star")  # compile / warm
        got, want = tierlib.rate(panel, "telecom_star"), anchor_star(panel)
        assert_frame_equal(got, want)  # every column, value and dtype (categoricals by their strings)
        res["checked_columns"] = want.columns
        from tierlib.panel import _validate

        times = {"anchor": [], "rate": [], "validate": [], "validate_in_rate": []}
        for _ in range(int(args[2])):
            for name, f in (("anchor", lambda: anchor_star(panel)), ("rate", lambda: tierlib.rate(panel, "telecom_star")),
                            ("validate", lambda: tierlib.validate(panel)),
                            ("validate_in_rate", lambda: _validate(panel, text=False))):
                t, c = time.perf_counter(), _cpu()
                f()
                times[name].append((time.perf_counter() - t, _cpu() - c))
        res.update({k: min(v)[0] for k, v in times.items()})
        res.update({f"{k}_cpu": min(v)[1] for k, v in times.items()})  # CPU s (all threads) of the fastest run
    elif kind == "compact":  # rate(panel, schemes, columns=[...]): the whole compact ledger held
        schemes = _resolve_schemes(args[2].split(","))
        cols = args[3].split(",")
        tierlib.rate(panel.head(100), schemes, columns=cols)
        t = time.perf_counter()
        ledger = tierlib.rate(panel, schemes, columns=cols)
        res.update({"s": time.perf_counter() - t, "ledger_rows": ledger.height,
                    "ledger_mb": ledger.estimated_size() / 2**20, "panel_mb": panel.estimated_size() / 2**20})
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


def _cpu() -> float:
    """CPU seconds (user + system, every thread) of this process so far."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


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


def _record(title: str, text: str) -> None:
    """Append one section (the command, the machine, ``text``) to RESULTS.md."""
    m = machine()
    with open(HERE / "RESULTS.md", "a", encoding="utf-8") as f:
        f.write(f"\n## bench_rate {title}\n\n"
                f"Command: `.venv/bin/python benchmarks/bench_rate.py {' '.join(x for x in sys.argv[1:] if x != '--record')}`"
                f"\n\nMachine: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM; polars {m['polars']}, "
                f"numba {m['numba']}\n\n{text}\n")


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
    ap.add_argument("--anchor-only", action="store_true", help="only rate() of telecom_star against the anchor kernel")
    ap.add_argument("--anchor-repeats", type=int, default=3, help="alternating anchor / rate / validate runs (min taken)")
    ap.add_argument("--compact", metavar="A,B", help="only rate(panel, schemes, columns=A,B) holding the whole "
                    "compact ledger: its time and the child's peak RSS")
    ap.add_argument("--record", action="store_true", help="append the results to benchmarks/RESULTS.md")
    a = ap.parse_args()

    # the parent imports no polars: a child's ru_maxrss starts from its parent's RSS at spawn
    path = panel_path(a.customers, a.months, a.seed, churn=a.churn, string_ids=a.string_ids)
    known = run_child("generate", str(path), *(str(int(x)) for x in (
        a.customers, a.months, a.seed, a.churn, a.string_ids)))["schemes"]
    schemes = known if a.schemes == "all" else a.schemes.split(",")
    start_load = load()
    t0 = time.perf_counter()
    if a.compact:
        c = run_child("compact", str(path), ",".join(schemes), a.compact)
        text = (f"panel: {a.customers:,} customers x {a.months} months = {c['rows']:,} rows ({c['panel_mb']:,.0f} MB "
                f"in memory)\n\n`tierlib.rate(panel, {len(schemes)} schemes, columns={a.compact.split(',')})`: "
                f"{c['ledger_rows']:,} ledger rows ({c['ledger_mb']:,.0f} MB) in {c['s']:.1f} s wall "
                f"({c['cpu_s']:.0f} CPU s for the whole child); peak RSS of the child **{c['peak_mb'] / 1024:.2f} GB** "
                f"(panel read included)\n\nload average before / after: {start_load} / {load()}")
        print(text)
        if a.record:
            _record(f"compact ledger ({dt.date.today()}, {c['rows']:,} panel rows)", text)
        return
    anc = run_child("anchor", str(path), str(a.anchor_repeats))
    anchor_lines = [
        f"anchor (telecom_star, one compiled pass, benchmarks/bench_rate.py:anchor_star): equal to "
        f"tierlib.rate on all {len(anc['checked_columns'])} columns and dtypes; min of {a.anchor_repeats} alternating runs, one process",
        "",
        "| | wall s | ratio | CPU s (all threads) | CPU ratio |",
        "|---|---:|---:|---:|---:|",
        f"| anchor kernel (one thread) | {anc['anchor']:.2f} | 1.00x | {anc['anchor_cpu']:.2f} | 1.00x |",
        f"| `tierlib.rate(panel, 'telecom_star')`, validation included | {anc['rate']:.2f} | **{anc['rate'] / anc['anchor']:.2f}x** (target <= 1.5x) "
        f"| {anc['rate_cpu']:.2f} | {anc['rate_cpu'] / anc['anchor_cpu']:.2f}x |",
        f"| validation as `rate` runs it (`panel._validate(panel, text=False)`: brand, province left to the schemes' plans) | {anc['validate_in_rate']:.2f} | **{anc['validate_in_rate'] / anc['rate']:.0%}** of rate (target <= 10 %) "
        f"| {anc['validate_in_rate_cpu']:.2f} | {anc['validate_in_rate_cpu'] / anc['rate_cpu']:.0%} of rate |",
        f"| `tierlib.validate(panel)` alone (public: also casts brand, province to String) | {anc['validate']:.2f} | {anc['validate'] / anc['rate']:.0%} of rate "
        f"| {anc['validate_cpu']:.2f} | {anc['validate_cpu'] / anc['rate_cpu']:.0%} of rate |",
        "",
    ]
    if a.anchor_only:
        text = "\n".join([f"panel: {a.customers:,} customers x {a.months} months = {anc['rows']:,} rows", "", *anchor_lines,
                          f"load average before / after: {start_load} / {load()}"])
        print(text)
        if a.record:
            _record(f"anchor ({dt.date.today()}, {anc['rows']:,} rows)", text)
        return
    every = run_child("all", str(path), ",".join(schemes))
    single = {} if a.no_single else {s: run_child("scheme", str(path), s) for s in schemes}
    ref = {s: run_child("reference", str(path), s, str(a.reference_customers)) for s in schemes}
    wall = time.perf_counter() - t0
    rows = every["rows"]

    lines = anchor_lines + [
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
