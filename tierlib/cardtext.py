"""The text of a card: parameters with their dates and provenance, assumptions marked.

One renderer for every card (a scheme's, :meth:`tierlib.params.Scheme.card`, and a benefits
catalogue's, :meth:`tierlib.benefits.Catalogue.card`). It reads the objects it is given and
imports nothing of tierlib, so the parameter modules can use it without an import cycle;
:mod:`tierlib.card` adds :func:`tierlib.card.assumptions` on top.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["param_lines", "scheme_card", "catalogue_card"]


def _fmt(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def _value_line(v: Any, markdown: bool) -> str:
    when = f"from {v.start}: " if v.start else ""
    if markdown:
        source = f"**{v.source}**" if v.assumed else v.source
        return f"{when}{_fmt(v.value)} [{source}] {v.reference}".rstrip()
    source = "ASSUMED" if v.assumed else v.source
    return f"{when}{_fmt(v.value)}  [{source}] {v.reference}".rstrip()


def param_lines(params: Mapping[str, Any], *, markdown: bool = False) -> list[str]:
    """``- path = value [source] reference`` per parameter; a dated one lists each value.

    An assumed value's source shows as ``ASSUMED`` (text) or bold (markdown, path in backticks).

    >>> from tierlib.dated import flatten
    >>> p = flatten({"fee": {"value": 5, "source": "assumed", "reference": "a guess"}})
    >>> param_lines(p), param_lines(p, markdown=True)
    (['- fee = 5  [ASSUMED] a guess'], ['- `fee` = 5 [**assumed**] a guess'])
    """
    out = []
    for path, p in params.items():
        name = f"`{path}`" if markdown else path
        lines = [_value_line(v, markdown) for v in p.history]
        if len(lines) == 1:
            out.append(f"- {name} = {lines[0]}")
        else:
            out.append(f"- {name}:")
            out += [f"    - {line}" for line in lines]
    return out


def scheme_card(s: Any, *, markdown: bool = False) -> str:
    """Ladder, holding policy, parameters (dated, with provenance) and the list of assumptions."""
    title = f"{s.key}: {s.name}" + (f" ({s.label})" if s.label else "")
    ladder = " < ".join(s.tier_label(t) for t in s.ladder)
    out = [f"# {title}" if markdown else title, "" if markdown else "=" * len(title)]
    if s.description:
        out += [s.description, ""]
    lineage = getattr(s, "lineage", ())
    if lineage:
        out.append(f"Extends: {' < '.join(lineage)} (values not listed as changed are the base's)")
    out += [f"Ladder: {ladder}", f"Holding policy: {s.holding}"]
    if s.variants:
        out.append(f"Variants: {', '.join(s.variants)}" + (f" (this card: {s.variant})" if s.variant else ""))
    if s.changes:
        out.append("Reform applied: " + "; ".join(s.changes))
    out += ["", "## Score components" if markdown else "Score components:"]
    out += [f"- {k}: {v}" for k, v in s.components.items()]
    out += ["", "## Parameters" if markdown else "Parameters:"]
    out += param_lines(s.params, markdown=markdown)
    assumed = s.assumptions()
    out += ["", "## Assumptions (not carrier rules)" if markdown else "Assumptions (not carrier rules):"]
    out += [f"- {p.path}: {_fmt(p.history[-1].value)}; {p.history[-1].reference}" for p in assumed] or ["- none"]
    return "\n".join(out)


def catalogue_card(c: Any) -> str:
    """Markdown: a catalogue's entitlements and every number with its provenance."""
    out = [f"### Benefits of {c.scheme}", "", c.description, ""]
    if c.changes:
        out += ["Edited: " + "; ".join(c.changes), ""]
    return "\n".join(out + param_lines(c.params, markdown=True))
