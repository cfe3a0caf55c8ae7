"""What a scheme file's ``rule:`` may say, and the checks a scheme file passes on load.

:func:`check_doc` validates a file against ``tierlib/scheme_schema.yaml`` (JSON Schema, the
mechanism of :mod:`tierlib.schema`); :func:`check_rule` then checks what a schema cannot: every
parameter a rule names exists (for every tier), every column it reads is a panel column or one it
declares. :func:`roles` says what each parameter a rule reads must hold (a window in months, a
threshold, a list of names), so :func:`tierlib.domains.check` can check an analyst's own
parameter names. The compiler is :mod:`tierlib.vocab.compile`.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from tierlib.dated import SchemeError
from tierlib.schema import load_schema, plain, schema_error

__all__ = ["KINDS", "QUANTITIES", "check_doc", "check_rule", "roles", "template_paths"]

#: the kinds of extra panel column a scheme may declare, as the panel contract names them
KINDS = {"money": "a number (yuan)", "count": "an integer", "bool": "a boolean", "text": "a string"}
#: a component's quantity: exactly one of these keys
QUANTITIES = ("sum", "mean", "tenure", "previous", "lookup", "column")
#: engine working columns and ledger columns a declared column may not be named
_RESERVED = {"tenure", "score", "eligible", "window_complete", "valid_until", "flag", "tier", "rank",
             "assessed", "assessed_rank", "floor", "status", "next_tier", "to_next", "to_keep", "scheme"}


def check_doc(doc: Any, origin: str) -> dict:
    """The document as JSON data, or a SchemeError naming the file, the path and what was expected."""
    if not isinstance(doc, Mapping):
        raise SchemeError(f"{origin}: a scheme file is a YAML mapping (id, ladder, holding, parameters, rule)")
    data = plain(doc)
    text = schema_error(data, load_schema("scheme_schema.yaml"), origin)
    if text:
        raise SchemeError(text)
    return dict(doc)


def template_paths(template: str, params: Mapping[str, Any], tier: str) -> list[str]:
    """The ``{key}`` values a template such as ``thresholds.{key}.{tier}`` takes among the parameters.

    >>> template_paths("t.{key}.{tier}", {"t.mobile.gold": 1, "t.fixed.gold": 2, "x.a.gold": 3}, "gold")
    ['mobile', 'fixed']
    """
    pattern = re.escape(template).replace(r"\{key\}", "([^.]+)").replace(r"\{tier\}", re.escape(tier))
    out = []
    for p in params:
        m = re.fullmatch(pattern, p)
        if m and m.group(1) not in out:
            out.append(m.group(1))
    return out


def _conditions(c: Any, where: str) -> Iterator[tuple[str, Any, str]]:
    """(where, node, role) of each parameter or column a condition names."""
    if not isinstance(c, Mapping):
        return
    for key in ("all", "any"):
        for i, x in enumerate(c.get(key, [])):
            yield from _conditions(x, f"{where}.{key}[{i}]")
    if "not" in c:
        yield from _conditions(c["not"], f"{where}.not")
    if "param" in c:
        yield f"{where}.param", c["param"], "flag"
    if "column" in c:
        yield f"{where}.column", c["column"], "column"
    for key, role in (("in", "names"), ("not_in", "names"), ("at_most", "number"), ("at_least", "number"),
                      ("above", "number")):
        if isinstance(c.get(key), str):
            yield f"{where}.{key}", c[key], role


def _thresholds(spec: Any, where: str) -> Iterator[tuple[str, Any, str]]:
    if isinstance(spec, str):
        yield where, spec, "threshold"
    elif isinstance(spec, list):
        for i, case in enumerate(spec):
            yield from _thresholds(case, f"{where}[{i}]")
    elif isinstance(spec, Mapping):
        if "when" in spec:
            yield from _conditions(spec["when"], f"{where}.when")
        if "by" in spec:
            yield f"{where}.by.column", spec["by"]["column"], "column"
        yield f"{where}.path", spec["path"], "threshold"


def _references(rule: Mapping) -> Iterator[tuple[str, Any, str]]:
    """(where in the file, what the rule names, its role) for every name a rule reads."""
    for name, c in (rule.get("components") or {}).items():
        w = f"rule.components.{name}"
        for key in ("sum", "mean", "previous", "column", "opening"):
            if key in c:
                yield f"{w}.{key}", c[key], "column"
        if "lookup" in c:
            yield f"{w}.lookup", c["lookup"], "column"
            yield f"{w}.points", c["points"], "points_by_key"
        if isinstance(c.get("window"), str) and c["window"] not in ("all", "cycle_year"):
            yield f"{w}.window", c["window"], "window"
        if isinstance(c.get("times"), str):
            yield f"{w}.times", c["times"], "number"
        for key in ("lower_bounds", "upper_bounds"):
            if isinstance((c.get("bands") or {}).get(key), str):
                yield f"{w}.bands.{key}", c["bands"][key], "bounds"
        if isinstance((c.get("bands") or {}).get("points"), str):
            yield f"{w}.bands.points", c["bands"]["points"], "points"
        for key in ("lower", "upper"):
            if isinstance((c.get("clip") or {}).get(key), str):
                yield f"{w}.clip.{key}", c["clip"][key], "number"
        if "when" in c:
            yield from _conditions(c["when"], f"{w}.when")
    for name, cond in (rule.get("eligible") or {}).items():
        for i, x in enumerate(cond if isinstance(cond, list) else [cond]):
            yield from _conditions(x, f"rule.eligible.{name}" + (f"[{i}]" if isinstance(cond, list) else ""))
    yield from _thresholds(rule.get("thresholds", "thresholds.{tier}"), "rule.thresholds")
    for i, cond in enumerate(rule.get("conditions") or []):
        yield from _thresholds(cond["thresholds"], f"rule.conditions[{i}].thresholds")
    if "provisional" in rule:
        yield from _conditions(rule["provisional"], "rule.provisional")
    for key, roles_ in (("cycle", {"month": "month_of_year"}), ("min_tenure", {"months": "months0"}),
                        ("arrears", {"cancel_after": "months0", "column": "column"}),
                        ("grant", {"required": "flag", "from_tier": "tier", "column": "column"}),
                        ("tier_from_column", {"column": "column", "tiers": "tiers_by_key"}),
                        ("initial", {"column": "column", "until": "column", "tiers": "tiers_by_key"}),
                        ("plan_levels", {"column": "column", "table": "tiers_by_key"})):
        spec = rule.get(key)
        if not spec:
            continue
        for k, role in roles_.items():
            if isinstance(spec.get(k), str):
                yield f"rule.{key}.{k}", spec[k], role
        if key == "tier_from_column" and "when" in spec:
            yield from _conditions(spec["when"], "rule.tier_from_column.when")


def _expand(name: str, role: str, params: Mapping, ladder: tuple[str, ...]) -> list[str]:
    """The parameter paths a name stands for (a tier template: one per tier; a prefix: its keys)."""
    if role == "threshold":
        out = []
        for t in ladder[1:]:
            path = name.replace("{tier}", t)
            out += [path.replace("{key}", k) for k in template_paths(name, params, t)] if "{key}" in name else [path]
        return out
    if role in ("points_by_key", "tiers_by_key"):
        return [p for p in params if p.startswith(name + ".")]
    return [name]


def check_rule(rule: Mapping, params: Mapping, ladder: tuple[str, ...], columns: Mapping, origin: str) -> None:
    """Every name a rule reads exists: a SchemeError names the place in the file and the name."""
    from tierlib.panel import COLUMNS

    for name in columns:
        if name in COLUMNS or name in _RESERVED:
            raise SchemeError(f"{origin}: rule.columns.{name}: '{name}' is a panel or ledger column of "
                              "tierlib's own; declare only columns the contract does not have")
    comps = rule.get("components") or {}
    for name, c in comps.items():
        given = [k for k in QUANTITIES if k in c]
        if len(given) != 1:
            raise SchemeError(f"{origin}: rule.components.{name}: give exactly one of {', '.join(QUANTITIES)}"
                              + (f" (it gives {', '.join(given)})" if given else ""))
        if ("sum" in c or "mean" in c) and "window" not in c:
            raise SchemeError(f"{origin}: rule.components.{name}: a sum or mean needs a window "
                              "(a parameter of months, all, or cycle_year)")
        if c.get("window") == "cycle_year" or c.get("tenure") == "cycle" or (rule.get("min_tenure") or {}).get("at") == "cycle":
            if "cycle" not in rule:
                raise SchemeError(f"{origin}: rule.components.{name}: the cycle's year needs rule.cycle")
        if "mean" in c and c["window"] == "all":
            raise SchemeError(f"{origin}: rule.components.{name}: a mean needs a window of months")
    for where, name, role in _references(rule):
        if role == "column":
            if name not in COLUMNS and name not in columns:
                raise SchemeError(f"{origin}: {where}: '{name}' is not a panel column "
                                  "(RULES.md §1) nor one the scheme declares under rule.columns")
            continue
        if role == "tier" and not isinstance(name, str):
            continue
        paths = _expand(name, role, params, ladder)
        missing = [p for p in paths if p not in params]
        if not paths or missing:
            what = f"'{missing[0]}'" if missing else f"any parameter under '{name}'"
            raise SchemeError(f"{origin}: {where}: no parameter {what} (the rule reads it; "
                              "give it under parameters)")
        if role == "threshold" and "{key}" in name:
            for t in ladder[1:]:
                if not template_paths(name, params, t):
                    raise SchemeError(f"{origin}: {where}: no parameter matches '{name}' for tier {t}")
    score = rule.get("score")
    parts = [score] if isinstance(score, str) else next(iter(score.values())) if isinstance(score, Mapping) else []
    for i, cond in enumerate(rule.get("conditions") or []):
        parts = [*parts, cond["component"]]
    for p in parts:
        if p not in comps:
            raise SchemeError(f"{origin}: rule: component '{p}' is not among rule.components "
                              f"({', '.join(comps)})")
    for t in rule.get("strict_thresholds") or ():
        if t not in ladder[1:]:
            raise SchemeError(f"{origin}: rule.strict_thresholds: '{t}' is not a tier of the ladder "
                              f"({', '.join(ladder[1:])})")


def roles(rule: Mapping | None, params: Mapping, ladder: tuple[str, ...]) -> dict[str, str]:
    """``{parameter path: role}`` for the parameters a rule reads (their domains, tierlib.domains)."""
    out: dict[str, str] = {}
    for _, name, role in _references(rule or {}):
        if role in ("column",) or not isinstance(name, str):
            continue
        for p in _expand(name, role, params, ladder):
            out.setdefault(p, "tier" if role == "tiers_by_key" else "money" if role == "points_by_key" else role)
    return out
