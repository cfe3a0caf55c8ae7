"""A scheme's card: what an analyst reads before trusting a number."""

from __future__ import annotations

import polars as pl

from tierlib.params import Param, Scheme

__all__ = ["render_card", "assumptions"]


def _fmt(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def _param_lines(p: Param) -> list[str]:
    lines = []
    for v in p.history:
        when = f"from {v.start}: " if v.start else ""
        source = "ASSUMED" if v.assumed else v.source
        lines.append(f"{when}{_fmt(v.value)}  [{source}] {v.reference}".rstrip())
    return lines


def render_card(s: Scheme, *, markdown: bool = False) -> str:
    """Ladder, holding policy, parameters (dated, with provenance) and the list of assumptions."""
    title = f"{s.key}: {s.name}" + (f" ({s.label})" if s.label else "")
    ladder = " < ".join(f"{t} {s.labels.get(t, '')}".strip() for t in s.ladder)
    out = [f"# {title}" if markdown else title, "" if markdown else "=" * len(title)]
    if s.description:
        out += [s.description, ""]
    out += [f"Ladder: {ladder}", f"Holding policy: {s.holding}"]
    if s.variants:
        out.append(f"Variants: {', '.join(s.variants)}" + (f" (this card: {s.variant})" if s.variant else ""))
    if s.changes:
        out.append("Reform applied: " + "; ".join(s.changes))
    out += ["", "## Score components" if markdown else "Score components:"]
    out += [f"- {k}: {v}" for k, v in s.components.items()]
    out += ["", "## Parameters" if markdown else "Parameters:"]
    for path, p in s.params.items():
        lines = _param_lines(p)
        if len(lines) == 1:
            out.append(f"- {path} = {lines[0]}")
        else:
            out.append(f"- {path}:")
            out += [f"    - {line}" for line in lines]
    assumed = s.assumptions()
    out += ["", "## Assumptions (not carrier rules)" if markdown else "Assumptions (not carrier rules):"]
    out += [f"- {p.path}: {_fmt(p.history[-1].value)}; {p.history[-1].reference}" for p in assumed] or ["- none"]
    return "\n".join(out)


def assumptions(schemes, catalogues=None) -> pl.DataFrame:
    """Every assumed number behind a set of schemes: their rules and their benefit catalogues.

    One row per parameter whose latest value is ``source: assumed``: ``scheme``, ``file``
    (``rules`` or ``benefits``), ``path``, ``value``, ``reference``. A dated parameter shows
    its latest value with the month it starts (``from 2025-02-01: ...``).

    >>> a = assumptions(["unicom_vip"])
    >>> a.filter(file="rules")["path"].to_list()
    ['thresholds.fixed.silver']
    """
    from tierlib.benefits import catalogues_for
    from tierlib.params import load_scheme

    given = [schemes] if isinstance(schemes, (str, Scheme)) else list(schemes)
    smap = {s.key if isinstance(s, Scheme) else s: load_scheme(s) for s in given}
    rows = []

    def _rows(key: str, file: str, params) -> list[tuple]:
        out = []
        for p in params.values():
            v = p.history[-1]
            if v.assumed:
                when = f"from {v.start}: " if v.start else ""
                out.append((key, file, p.path, when + str(v.value), v.reference))
        return out

    for key, s in smap.items():
        rows += _rows(key, "rules", s.params)
    for key, cat in catalogues_for(smap, catalogues).items():
        rows += _rows(key, "benefits", cat.params)
    return pl.DataFrame(rows, schema=["scheme", "file", "path", "value", "reference"], orient="row")
