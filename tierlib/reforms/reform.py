"""Reforms as data: a scheme in, a scheme out (no panel, no rating).

A reform is a mapping of parameter paths to new values, plain or dated::

    {"thresholds.mobile.gold": 350, "validity_months": 6,
     "thresholds.mobile.diamond": {"from": "2026-01-01", "value": 500}}

or a YAML file holding the same (optionally under ``changes:`` with a ``name`` and a
``description``; nested mappings are read as dotted paths; ``docs/REFORMS.md`` describes the
file). Applying it returns a new scheme (:meth:`tierlib.params.Scheme.with_values`): the baseline
is never edited, and a path that does not exist or a value of the wrong type is a
:class:`~tierlib.params.SchemeError` naming the path.

Reforms stack: ``a + b`` applies ``a``, then ``b`` to the result (a later step's value of the
same path wins). :func:`cumulative` gives the scheme after each step, behind the additive
breakdown of :func:`tierlib.reforms.compare_reforms`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from tierlib.months import as_month
from tierlib.params import Param, Scheme, SchemeError
from tierlib.schemefiles import load_scheme

__all__ = ["Reform", "ReformLike", "load_reform", "apply_reform", "reform_warnings", "cumulative",
           "starting", "stack"]

SchemeLike = str | Scheme


@dataclass(frozen=True)
class Reform:
    """Parameter changes with a name: ``changes`` maps dotted paths to values.

    A stacked reform (``a + b``) keeps its parts in ``steps``, applied in that order; its
    ``changes`` are the parts' changes merged (a later part wins).

    >>> a = Reform({"thresholds.mobile.gold": 350}, "gold 350")
    >>> b = Reform({"validity_months": 6}, "validity 6")
    >>> s = a + b
    >>> s.name, [p.name for p in s.parts], s.changes
    ('gold 350 + validity 6', ['gold 350', 'validity 6'], {'thresholds.mobile.gold': 350, 'validity_months': 6})
    """

    changes: Mapping[str, Any]
    name: str = "reform"
    description: str = ""
    steps: tuple["Reform", ...] = ()

    @property
    def parts(self) -> tuple["Reform", ...]:
        """The single reforms applied in order (a plain reform is its own one part)."""
        return self.steps or (self,)

    def __add__(self, other: "ReformLike") -> "Reform":
        o = load_reform(other)
        parts = self.parts + o.parts
        merged: dict[str, Any] = {}
        for p in parts:
            merged.update(p.changes)
        return Reform(merged, " + ".join(p.name for p in parts),
                      "; ".join(p.description for p in parts if p.description), parts)

    def named(self, name: str) -> "Reform":
        """The same reform under another name (steps keep theirs)."""
        return Reform(self.changes, name, self.description, self.steps)


ReformLike = Reform | Mapping | str | Path


def _flat(node: Mapping, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in node.items():
        path = f"{prefix}{k}"
        if isinstance(v, Mapping) and "value" not in v and "from" not in v:
            out.update(_flat(v, path + "."))
        else:
            if isinstance(v, Mapping) and not {"from", "value"} <= set(v):
                raise SchemeError(f"reform '{path}': a dated value needs 'from' and 'value'")
            out[path] = v
    return out


def load_reform(reform: ReformLike) -> Reform:
    """A :class:`Reform` from a mapping or a YAML file (``name``, ``description``, ``changes``).

    >>> load_reform({"thresholds": {"mobile": {"gold": 350}}, "validity_months": 6}).changes
    {'thresholds.mobile.gold': 350, 'validity_months': 6}
    """
    if isinstance(reform, Reform):
        return reform
    name, description = "reform", ""
    if isinstance(reform, (str, Path)):
        path = Path(reform)
        if not path.exists():
            raise SchemeError(f"reform file not found: {path}")
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, ValueError) as e:  # ValueError: a date such as 2025-13-01
            raise SchemeError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from None
        name = path.stem
    else:
        doc = reform
    if not isinstance(doc, Mapping):
        raise SchemeError(f"a reform is a mapping of parameter paths to values, got {type(doc).__name__}")
    if "changes" in doc:
        if not isinstance(doc["changes"], Mapping):
            raise SchemeError(f"reform {name!r}: 'changes' must map parameter paths to values")
        extra = sorted(set(doc) - {"name", "description", "changes"})
        if extra:
            raise SchemeError(f"reform {name!r}: unknown key(s) {', '.join(extra)} next to 'changes' "
                              "(a reform file holds name, description and changes)")
        name, description = str(doc.get("name", name)), str(doc.get("description", ""))
        doc = doc["changes"]
    return Reform(_flat(doc), name, description)


def apply_reform(scheme: SchemeLike, reform: ReformLike, *, name: str | None = None) -> Scheme:
    """The scheme with the reform's changes; the baseline is untouched.

    A stacked reform applies its parts in order. The result's ledger key is ``name``, else the
    reform's own name (a YAML ``name:`` or the file's stem), else derived from the baseline and
    the changes, so a baseline and its reform never share a key in one ledger.

    >>> base = load_scheme("unicom_vip")
    >>> new = apply_reform(base, {"thresholds.mobile.gold": 350})
    >>> new.value("thresholds.mobile.gold"), base.value("thresholds.mobile.gold")
    (350, 300)
    >>> new.key, apply_reform(base, {"thresholds.mobile.gold": 350}, name="gold 350").key
    ('unicom_vip[thresholds.mobile.gold=350]', 'gold 350')
    >>> apply_reform(base, {"thresholds.mobile.gould": 350})
    Traceback (most recent call last):
    ...
    tierlib.params.SchemeError: scheme unicom_vip: no parameter 'thresholds.mobile.gould'
    """
    r = load_reform(reform)
    given = name or (r.name if r.name != Reform.name else None)
    new = cumulative(scheme, r)[-1]
    return new if given is None else new.renamed(given)


def stack(*reforms: ReformLike) -> Reform:
    """The reforms stacked in the order given: ``stack(a, b, c) == a + b + c``.

    >>> stack({"validity_months": 6}, Reform({"thresholds.mobile.gold": 350}, "gold 350")).name
    'reform + gold 350'
    """
    if not reforms:
        raise ValueError("stack: give at least one reform")
    out = load_reform(reforms[0])
    for r in reforms[1:]:
        out = out + r
    return out


def cumulative(scheme: SchemeLike, reform: ReformLike) -> list[Scheme]:
    """The scheme after each part of a (stacked) reform, in order; the last is the whole reform.

    Step *i*'s scheme is named ``a + ... + (part i)``; a single reform's list has one scheme.

    >>> a = Reform({"thresholds.mobile.gold": 350}, "gold 350") + {"validity_months": 6}
    >>> [(s.key, s.value("thresholds.mobile.gold"), s.value("validity_months")) for s in cumulative("unicom_vip", a)]
    [('gold 350', 350, 12), ('gold 350 + reform', 350, 6)]
    """
    r = load_reform(reform)
    s, out, names = load_scheme(scheme), [], []
    for part in r.parts:
        names.append(part.name)
        s = s.with_values(part.changes, reference=f"reform: {part.name}",
                          name=" + ".join(names) if (len(r.parts) > 1 or part.name != Reform.name) else None)
        out.append(s)
    return out


def starting(reform: ReformLike, start: dt.date | str) -> Reform:
    """The reform with every plain value made to take effect from ``start`` (a dated value).

    A value already dated keeps its own date. Used to follow a reform month by month from the
    date it starts (:func:`tierlib.reforms.unfold`).

    >>> starting({"thresholds.mobile.gold": 350}, "2025-03").changes
    {'thresholds.mobile.gold': {'from': datetime.date(2025, 3, 1), 'value': 350}}
    """
    d = as_month(start, name="reform date")

    def dated(r: Reform) -> Reform:
        ch = {p: v if isinstance(v, Mapping) else {"from": d, "value": v} for p, v in r.changes.items()}
        return Reform(ch, r.name, r.description)

    r = load_reform(reform)
    if not r.steps:
        return dated(r)
    out = dated(r.parts[0])
    for p in r.parts[1:]:
        out = out + dated(p)
    return out.named(r.name)


def _dates(*params: Param) -> list[dt.date]:
    return sorted({v.start for p in params for v in p.history if v.start is not None} | {dt.date.min})


def _same(old: Param, new: Param) -> bool:
    def at(p: Param, d: dt.date) -> Any:
        try:
            return p.at(d)
        except SchemeError:
            return None  # before the parameter's first dated value
    return all(at(old, d) == at(new, d) for d in _dates(old, new))


def reform_warnings(baseline: SchemeLike, reform: ReformLike) -> list[str]:
    """Warnings about a reform: it changes nothing, or some of its values equal the baseline's.

    >>> reform_warnings("unicom_vip", {"thresholds.mobile.gold": 300})
    ["reform 'reform' changes nothing: every value equals the baseline (thresholds.mobile.gold = 300)"]
    """
    base, r = load_scheme(baseline), load_reform(reform)
    if not r.changes:
        return [f"reform '{r.name}' changes nothing: it has no changes"]
    new = apply_reform(base, r)
    same = [p for p in r.changes if _same(base.p(p), new.p(p))]
    if len(same) == len(r.changes):
        listed = ", ".join(f"{p} = {base.p(p).history[-1].value!r}" for p in same)
        return [f"reform '{r.name}' changes nothing: every value equals the baseline ({listed})"]
    return [f"{p}: the reform's value equals the baseline ({base.p(p).history[-1].value!r})" for p in same]
