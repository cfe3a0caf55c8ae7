"""Scheme parameter files -> frozen :class:`Scheme` objects.

Every number of a scheme lives in its YAML file under ``parameters``, as a leaf::

    validity_months: {value: 12, source: seed 000, reference: "自星级上升当月起重新计算有效期"}

or, when the carrier changed it at a date, as a dated history::

    plan_levels.288:
      values:
        - {from: 2013-01-01, value: silver, source: seed 002, reference: 全球通资费套餐}
        - {from: 2025-02-01, value: platinum, source: public, reference: 全球通尊享计划}

Leaves are addressed by dotted paths (``thresholds.mobile.gold``). Values are resolved per
month inside the engine (:meth:`Scheme.expr`) or once at the boundary
(``load_scheme(..., as_of=...)``). A scheme is immutable; :meth:`Scheme.with_values` returns a new
one (the building block of reforms).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any, Mapping

import polars as pl

from tierlib.cardtext import scheme_card
from tierlib.vocab import spec
from tierlib.dated import SOURCES, Param, SchemeError, Value, _date, flatten  # noqa: F401  (re-exported)

__all__ = ["Value", "Param", "Scheme", "SchemeError"]

_flatten = flatten  # the old private name (tierlib.dated.flatten is the public one)



def _short(path: str, new: Any) -> str:
    if isinstance(new, Mapping) and "value" in new:
        return f"{path}={new['value']!r}@{new.get('from')}"
    return f"{path}={new!r}" if not isinstance(new, (int, float)) or isinstance(new, bool) else f"{path}={new}"


def _same_type(old: Any, new: Any) -> bool:
    num = (int, float)
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool)
    if isinstance(old, num):
        return isinstance(new, num)
    if isinstance(old, list):
        return isinstance(new, (list, tuple)) and all(isinstance(x, type(old[0])) for x in new) if old else isinstance(new, (list, tuple))
    return old is None or isinstance(new, type(old))


@dataclass(frozen=True)
class Scheme:
    """One scheme: its ladder, its rule (a scheme file's `rule:` section, or a module) and parameters with provenance."""

    id: str
    name: str
    label: str
    carrier: str
    ladder: tuple[str, ...]
    labels: Mapping[str, str]
    holding: str
    params: Mapping[str, Param]
    components: Mapping[str, str]
    module_name: str
    variant: str | None = None
    variants: tuple[str, ...] = ()
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    changes: tuple[str, ...] = ()
    key_name: str | None = None
    rule: Mapping[str, Any] | None = None
    lineage: tuple[str, ...] = ()
    origin: str = ""

    @property
    def key(self) -> str:
        """The scheme's name in ledgers: ``id`` or ``id:variant``, or the name a reform gave it."""
        if self.key_name:
            return self.key_name
        return f"{self.id}:{self.variant}" if self.variant else self.id

    def renamed(self, name: str) -> "Scheme":
        """A copy with another ledger key (e.g. a province copy rated beside the original).

        >>> from tierlib.schemefiles import load_scheme
        >>> load_scheme("unicom_vip").renamed("unicom_vip_gd").key
        'unicom_vip_gd'
        """
        if not isinstance(name, str) or not name.strip():
            raise SchemeError(f"scheme {self.key}: a name must be a non-empty string, not {name!r}")
        return replace(self, key_name=name)

    def tier_label(self, tier: str) -> str:
        """``"star5 五星"``: the tier id and its Chinese label (the one place this is built).

        >>> from tierlib.schemefiles import load_scheme
        >>> load_scheme("telecom_star").tier_label("star5")
        'star5 五星'
        """
        self.rank(tier)
        return f"{tier} {self.labels.get(tier, '')}".strip()

    def ladder_frame(self) -> pl.DataFrame:
        """One row per tier including ``none``: ``scheme, tier, rank, label, tier_label, top``.

        >>> from tierlib.schemefiles import load_scheme
        >>> load_scheme("unicom_vip").ladder_frame().select("tier", "rank", "top").row(-1)
        ('diamond', 3, True)
        """
        n = len(self.ladder)
        return pl.DataFrame({
            "scheme": [self.key] * n, "tier": list(self.ladder), "rank": list(range(n)),
            "label": [str(self.labels.get(t, "")) for t in self.ladder],
            "tier_label": [self.tier_label(t) for t in self.ladder],
            "top": [k == n - 1 for k in range(n)],
        }, schema={"scheme": pl.String, "tier": pl.String, "rank": pl.Int8, "label": pl.String,
                   "tier_label": pl.String, "top": pl.Boolean})

    @property
    def module(self) -> ModuleType:
        """What gives the scheme's ``prepare(lf, s)``: the vocabulary's compiler for a file with a
        ``rule``, else its ``module`` (a dotted module name, or a name in tierlib.rules)."""
        if self.rule is not None:
            return importlib.import_module("tierlib.vocab.compile")
        name = self.module_name if "." in self.module_name else f"tierlib.rules.{self.module_name}"
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError:
            raise SchemeError(f"scheme {self.key}: no rule module '{name}'; write the rule in the file's "
                              "'rule:' section (docs/SCHEMES.md) or give 'module:'") from None

    @property
    def strict_tiers(self) -> tuple[str, ...]:
        """Tiers whose threshold is exclusive (``score > threshold``); the others are inclusive."""
        return tuple((self.rule or {}).get("strict_thresholds") or ())

    @property
    def columns(self) -> tuple[str, ...]:
        """The extra panel columns the scheme's rule declares (beyond RULES.md §1)."""
        return tuple((self.rule or {}).get("columns") or ())

    @property
    def tiers(self) -> tuple[str, ...]:
        """The tiers above ``none``, lowest first."""
        return self.ladder[1:]

    def rank(self, tier: str) -> int:
        if tier not in self.ladder:
            raise SchemeError(f"scheme {self.key}: unknown tier '{tier}' (ladder: {', '.join(self.ladder)})")
        return self.ladder.index(tier)

    def p(self, path: str) -> Param:
        try:
            return self.params[path]
        except KeyError:
            near = [k for k in self.params if k.split(".")[-1] == path.split(".")[-1]]
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise SchemeError(f"scheme {self.key}: no parameter '{path}'{hint}") from None

    def value(self, path: str, as_of: Any = None) -> Any:
        """The value of ``path`` in force at month ``as_of`` (required when the parameter is dated).

        >>> from tierlib.schemefiles import load_scheme
        >>> load_scheme("mobile_gotone").value("plan_levels.288", "2025-03")
        'platinum'
        """
        return self.p(path).at(as_of)

    def expr(self, path: str) -> pl.Expr:
        return self.p(path).expr()

    def has(self, path: str) -> bool:
        return path in self.params

    def with_values(self, changes: Mapping[str, Any], *, name: str | None = None,
                    reference: str = "reform", check_domains: bool = True) -> "Scheme":
        """A new scheme with some parameters replaced; the original is untouched.

        A value may be plain (replaces the whole history) or ``{"from": date, "value": v}``
        (in force from that date on, earlier history kept). Unknown paths and values of another
        type than the baseline's raise :class:`SchemeError` naming the path. The result's
        ledger key is ``name``, else derived from the baseline's key and the changes, so a
        baseline and its reform never share a ``scheme`` label.

        >>> from tierlib.schemefiles import load_scheme
        >>> s = load_scheme("unicom_vip")
        >>> s.with_values({"thresholds.mobile.gold": 350}).value("thresholds.mobile.gold")
        350
        >>> s.value("thresholds.mobile.gold")
        300
        >>> s.with_values({"thresholds.mobile.gold": 350}).key
        'unicom_vip[thresholds.mobile.gold=350]'
        """
        params = dict(self.params)
        done = []
        for path, new in changes.items():
            old = self.p(path)
            dated = isinstance(new, Mapping) and "value" in new
            val = new["value"] if dated else new
            base = old.history[-1].value
            if not _same_type(base, val):
                raise SchemeError(f"reform '{path}': {val!r} is a {type(val).__name__}, "
                                  f"the baseline value {base!r} is a {type(base).__name__}")
            if isinstance(val, tuple):
                val = list(val)
            if dated:
                start = _date(new["from"], path)
                keep = tuple(v for v in old.history if v.start is not None and v.start < start)
                keep = keep or tuple(v for v in old.history[:1] if v.start is None and start is not None)
                history = keep + (Value(val, "reform", reference, start),)
            else:
                history = (Value(val, "reform", reference, None),)
            params[path] = Param(path, history)
            done.append(f"{path} = {val!r}" + (f" from {new['from']}" if dated else ""))
        if name is None:
            name = f"{self.key}[{', '.join(_short(p, v) for p, v in changes.items())}]"
        out = replace(self, params=MappingProxyType(params), changes=self.changes + tuple(done))
        from tierlib.domains import check

        if check_domains:  # off only for benefit catalogues, whose costs are not scheme parameters
            check(out, where=f"reform of {self.key}", roles=_roles(out))  # every value in its domain, thresholds in order
        return out.renamed(name)

    def resolved(self, as_of: Any) -> "Scheme":
        """This scheme with every parameter frozen at its value in force at month ``as_of``."""
        params = {}
        for path, p in self.params.items():
            v = p.value_at(as_of)
            params[path] = Param(path, (replace(v, start=None),))
        return replace(self, params=MappingProxyType(params))

    def assumptions(self) -> list[Param]:
        return [p for p in self.params.values() if p.assumed]

    def card(self) -> str:
        """A readable card: ladder, parameters with dates and provenance, assumptions."""
        return scheme_card(self)

    def __repr__(self) -> str:
        return f"<Scheme {self.key}: {self.name}; ladder {' < '.join(self.ladder)}>"

    def __reduce__(self):
        # read-only mapping proxies do not pickle: ship plain dicts, wrap them again on load
        # (multiprocessing, copy.deepcopy, caching a reform to disk)
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        return (_scheme_from_state, ({k: dict(v) if isinstance(v, MappingProxyType) else v
                                      for k, v in state.items()},))

    def _repr_markdown_(self) -> str:
        return scheme_card(self, markdown=True)


def _scheme_from_state(state: dict) -> Scheme:
    return Scheme(**{k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in state.items()})


def _roles(s: Scheme) -> dict[str, str] | None:
    return None if s.rule is None else spec.roles(s.rule, s.params, s.ladder)

