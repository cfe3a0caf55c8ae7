"""docs/SCHEMES.md's walk-through, executed: its files written, its commands and Python run in order.

A ```yaml PATH``` block is written to PATH; in a ```console``` block each ``$ `` line is a
command (``tierlib ...`` through :func:`tierlib.cli.main`, ``export NAME=VALUE`` sets the
environment) and the lines after it are fragments its output must contain; a command whose
expected output is a ``tierlib: error:`` line must fail with exit 2, every other one succeed.
```python``` blocks run in one namespace. The working folder is a temporary copy of the
repository's root (its data, docs and examples linked), so nothing is written in the repository.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "SCHEMES.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[str, str, str]]:
    """(language, file name or "", body) of every fenced block of the page, in order."""
    out = []
    for info, body in FENCE.findall(DOC.read_text(encoding="utf-8")):
        lang, _, name = info.strip().partition(" ")
        out.append((lang, name.strip(), body))
    return out


def steps(body: str) -> list[tuple[str, list[str]]]:
    """(command, expected output fragments) of a console block."""
    out: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif line.strip():
            out[-1][1].append(line.strip())
    return out


def test_the_page_has_a_walk_through():
    kinds = [lang for lang, _, _ in blocks()]
    assert kinds.count("yaml") >= 3 and kinds.count("console") >= 5 and "python" in kinds


def test_walk_through_runs(tmp_path, monkeypatch):
    from tierlib.cli import main

    for name in ("data", "docs", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TIERLIB_SCHEMES", raising=False)
    namespace: dict = {}
    for lang, name, body in blocks():
        if lang == "yaml" and name:
            f = tmp_path / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(body, encoding="utf-8")
        elif lang == "python":
            exec(compile(body, f"{DOC}:python", "exec"), namespace)
        elif lang == "console":
            for command, expected in steps(body):
                argv = shlex.split(command)
                if argv[0] == "export":
                    key, _, value = argv[1].partition("=")
                    monkeypatch.setenv(key, value)
                    continue
                assert argv[0] == "tierlib", f"the page runs tierlib commands only: {command}"
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(argv[1:] + (["--quiet"] if argv[1] in ("compare", "simulate", "sweep") else []))
                text = out.getvalue() + err.getvalue()
                fails = any(e.startswith("tierlib: error:") for e in expected)
                assert code == (2 if fails else 0), f"{command} exited {code}:\n{text}"
                for e in expected:
                    assert e in text, f"{command}: {e!r} not in its output:\n{text}"
