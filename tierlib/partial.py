"""The partial folder of an out-of-core run (:func:`tierlib.scale.rate_parquet`).

A run builds its ledger in the hidden sibling ``.<out>.tierlib-partial``: each part file is
written under a hidden name and renamed when complete, and the manifest (``_tierlib.json``,
``complete: false``) is replaced atomically after every partition, recording each part's rows.
A restart with the same arguments keeps the parts whose files still have those row counts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import polars as pl

MANIFEST = "_tierlib.json"


def write_part(ledger: pl.DataFrame, folder: Path, k: int) -> None:
    """Write a part under a hidden name, fsync, then rename: never visible before complete."""
    final = folder / f"part-{k:05d}.parquet"
    tmp = folder / f".part-{k:05d}.parquet.tmp"
    ledger.write_parquet(tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)


def save(work: Path, state: dict) -> None:
    """The partial run's manifest, replaced atomically after every partition."""
    tmp = work / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(state))
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, work / MANIFEST)


def _difference(old: dict, new: dict) -> str:
    names = {"schemes": "schemes", "partitions": "--partitions", "partitioning": "partition plan",
             "bounds": "range boundaries", "source": "input files (names, sizes or times)"}
    diff = [f"{names[k]} {_short(old.get(k))} then, {_short(new[k])} now" for k in names if old.get(k) != new[k]]
    return "; ".join(diff)


def _short(v) -> str:
    text = json.dumps(v)
    return text if len(text) <= 60 else text[:57] + "..."


def check_previous(out: Path, args: dict, overwrite: bool) -> None:
    """Refuse a foreign folder, or a previous ledger without --overwrite (naming how it differs)."""
    from tierlib.outputs import OutputError, check_target

    if overwrite or not (out / MANIFEST).is_file():
        check_target(out, overwrite=overwrite)
        return
    try:
        old = json.loads((out / MANIFEST).read_text()).get("args", {})
    except (OSError, ValueError, AttributeError):
        old = {}
    check_target(out, overwrite=True)  # foreign files: refused here whatever the arguments
    diff = _difference(old, args)
    what = f"a ledger of other arguments ({diff})" if diff else "a complete ledger of these arguments"
    raise OutputError(f"{out} holds {what}; pass --overwrite to replace it, or choose another output")


def resume(work: Path, args: dict, overwrite: bool) -> dict:
    """The state of an interrupted run of the same arguments (parts verified by row count)."""
    import pyarrow.parquet as pq

    from tierlib.outputs import OutputError

    fresh = {"args": args, "complete": False, "staged": False, "parts": {}}
    if not work.exists():
        work.mkdir()
        save(work, fresh)
        return fresh
    try:
        state = json.loads((work / MANIFEST).read_text())
        assert state.get("complete") is False and isinstance(state.get("parts"), dict)
    except (OSError, ValueError, AssertionError):
        raise OutputError(f"{work} is not an interrupted tierlib run (no readable manifest); "
                          "tierlib leaves it alone: move it away") from None
    diff = _difference(state.get("args", {}), args)
    if diff and not overwrite:
        raise OutputError(f"{work} holds an interrupted run of other arguments ({diff}); rerun with the "
                          "same arguments to resume it, or pass --overwrite to start over")
    if diff:
        shutil.rmtree(work)
        work.mkdir()
        save(work, fresh)
        return fresh
    good = {}
    for k, rec in state["parts"].items():
        try:
            ok = all(pq.read_metadata(work / d / f"part-{int(k):05d}.parquet").num_rows == rows
                     for d, rows in rec["rows"].items())
        except (OSError, ValueError, pq.lib.ArrowException):
            ok = False
        if ok:
            good[k] = rec
    state["parts"] = good
    return state
