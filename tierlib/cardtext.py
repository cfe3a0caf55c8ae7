"""The text of a card: parameters with their dates and provenance, assumptions marked.

One renderer for every card (a scheme's, :meth:`tierlib.params.Scheme.card`, and a benefits
catalogue's, :meth:`tierlib.benefits.Catalogue.card`), in a report language (``en``, ``zh``:
the frame's words from ``tierlib/terms/cards.yaml``; names, descriptions and references are the
files' own). It reads the objects it is given and imports only the terms catalogue, so the
parameter modules can use it without an import cycle; :mod:`tierlib.card` adds
:func:`tierlib.card.assumptions` on top.
"""

from __future__ import annotations

from typing import Any, Mapping

from tierlib.terms import term

__all__ = ["param_lines", "scheme_card", "catalogue_card"]


def _fmt(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def _value_line(v: Any, markdown: bool, lang: str) -> str:
    when = term("card.from", lang).format(start=v.start) if v.start else ""
    if markdown:
        shown = v.source if lang == "en" else f"{term('card.assumed_mark', lang)} {v.source}"
        source = f"**{shown}**" if v.assumed else v.source
        return f"{when}{_fmt(v.value)} [{source}] {v.reference}".rstrip()
    source = term("card.assumed_mark", lang) if v.assumed else v.source
    return f"{when}{_fmt(v.value)}  [{source}] {v.reference}".rstrip()


def param_lines(params: Mapping[str, Any], *, markdown: bool = False, lang: str = "en") -> list[str]:
    """``- path = value [source] reference`` per parameter; a dated one lists each value.

    An assumed value's source shows as ``ASSUMED`` (text) or bold (markdown, path in backticks);
    in Chinese as 假设值.

    >>> from tierlib.dated import flatten
    >>> p = flatten({"fee": {"value": 5, "source": "assumed", "reference": "a guess"}})
    >>> param_lines(p), param_lines(p, markdown=True)
    (['- fee = 5  [ASSUMED] a guess'], ['- `fee` = 5 [**assumed**] a guess'])
    >>> param_lines(p, markdown=True, lang="zh")
    ['- `fee` = 5 [**假设值 assumed**] a guess']
    """
    out = []
    for path, p in params.items():
        name = f"`{path}`" if markdown else path
        lines = [_value_line(v, markdown, lang) for v in p.history]
        if len(lines) == 1:
            out.append(f"- {name} = {lines[0]}")
        else:
            out.append(f"- {name}:")
            out += [f"    - {line}" for line in lines]
    return out


def scheme_card(s: Any, *, markdown: bool = False, lang: str = "en") -> str:
    """Ladder, holding policy, parameters (dated, with provenance) and the list of assumptions.

    >>> from tierlib.schemefiles import load_scheme
    >>> zh = scheme_card(load_scheme("unicom_vip"), markdown=True, lang="zh")
    >>> [line for line in zh.splitlines() if line.startswith("## ")]
    ['## 分值构成', '## 参数', '## 假设值（非运营商规则）']
    """
    def heading(key: str) -> str:
        return f"## {term(key, lang)}" if markdown else f"{term(key, lang)}:"

    title = f"{s.key}: {s.name}" + (f" ({s.label})" if s.label else "")
    ladder = " < ".join(s.tier_label(t) for t in s.ladder)
    out = [f"# {title}" if markdown else title, "" if markdown else "=" * len(title)]
    if s.description:
        out += [s.description, ""]
    lineage = getattr(s, "lineage", ())
    if lineage:
        out.append(term("card.extends", lang).format(lineage=" < ".join(lineage)))
    out += [term("card.ladder", lang).format(ladder=ladder), term("card.holding", lang).format(holding=s.holding)]
    if s.variants:
        out.append(term("card.variants", lang).format(variants=", ".join(s.variants))
                   + (term("card.this_variant", lang).format(variant=s.variant) if s.variant else ""))
    if s.changes:
        out.append(term("card.reform", lang).format(changes="; ".join(s.changes)))
    out += ["", heading("card.components")]
    out += [f"- {k}: {v}" for k, v in s.components.items()]
    out += ["", heading("card.parameters")]
    out += param_lines(s.params, markdown=markdown, lang=lang)
    assumed = s.assumptions()
    out += ["", heading("card.assumptions")]
    out += ([f"- {p.path}: {_fmt(p.history[-1].value)}; {p.history[-1].reference}" for p in assumed]
            or [f"- {term('card.none', lang)}"])
    return "\n".join(out)


def catalogue_card(c: Any, lang: str = "en") -> str:
    """Markdown: a catalogue's entitlements and every number with its provenance."""
    out = [f"### {term('card.benefits_of', lang).format(scheme=c.scheme)}", "", c.description, ""]
    if c.changes:
        out += [term("card.edited", lang).format(changes="; ".join(c.changes)), ""]
    return "\n".join(out + param_lines(c.params, markdown=True, lang=lang))
