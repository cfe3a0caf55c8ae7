"""What each scheme parameter may be: its domain, declared once (issue 9, item 2).

Every parameter path of every scheme matches one row of :data:`DOMAINS` (first match wins); a
path that matches none is refused, so a new parameter must say what it may hold. Besides each
value's own domain, thresholds are non-decreasing up the ladder: the values of one family
(the same path with another tier id, e.g. ``thresholds.mobile.*``) at every date a value
changes. :func:`check` runs when a scheme file loads and when a reform is applied, and names
the path and the value at fault.
"""

from __future__ import annotations

import datetime as dt
import math
from fnmatch import fnmatchcase
from typing import Any, Callable

from tierlib.dated import SchemeError
from tierlib.panel import ACCOUNT_TYPES, SEGMENTS

__all__ = ["DOMAINS", "check", "ladder_bounds"]


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _whole(lo: int) -> Callable[[Any], str | None]:
    def ok(x: Any) -> str | None:
        if isinstance(x, bool) or not isinstance(x, int) or x < lo:
            return f"is not a whole number of months >= {lo}" if lo else f"is not a whole number >= {lo}"
        return None
    return ok


def _months(lo: int) -> Callable[[Any], str | None]:
    def ok(x: Any) -> str | None:
        if isinstance(x, bool) or not isinstance(x, int) or x < lo:
            return f"is not a whole number of months >= {lo}"
        return None
    return ok


def _month_of_year(x: Any) -> str | None:
    return None if isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 12 else "is not a month of the year (1 .. 12)"


def _money(x: Any) -> str | None:
    return None if _number(x) and x >= 0 else "is not a finite amount >= 0"


def _penalty(x: Any) -> str | None:
    return None if _number(x) and x <= 0 else "is not a finite penalty <= 0"


def _flag(x: Any) -> str | None:
    return None if isinstance(x, bool) else "is not true or false"


def _rising(item: Callable[[Any], str | None], *, strict: bool) -> Callable[[Any], str | None]:
    def ok(x: Any) -> str | None:
        if not isinstance(x, (list, tuple)) or not x:
            return "is not a non-empty list"
        for v in x:
            why = item(v)
            if why:
                return f"holds {v!r}, which {why}"
        pairs = list(zip(x, x[1:]))
        if any((b <= a) if strict else (b < a) for a, b in pairs):
            return "is not " + ("strictly increasing" if strict else "non-decreasing")
        return None
    return ok


def _subset(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    def ok(x: Any) -> str | None:
        if not isinstance(x, (list, tuple)) or any(v not in allowed for v in x):
            return f"is not a list of values from {', '.join(allowed)}"
        return None
    return ok


def _strings(x: Any) -> str | None:
    return None if isinstance(x, (list, tuple)) and all(isinstance(v, str) for v in x) else "is not a list of names"


TIER = "tier"  # a tier id of the scheme's own ladder

#: (path pattern, domain): the first pattern a path matches gives its domain
DOMAINS: tuple[tuple[str, Any], ...] = (
    ("window_months", _months(1)),
    ("validity_months", _months(1)),
    ("suspension_window_months", _months(1)),
    ("min_tenure_months", _months(0)),
    ("cancel_after_arrears_months", _months(0)),
    ("rating_month", _month_of_year),
    ("rerating_month", _month_of_year),
    ("upgrade_resets", _flag),
    ("never_drops", _flag),
    ("regional.all_high", _flag),
    ("top_star_grant.required", _flag),
    ("top_star_grant.from_star", TIER),
    ("migration.*", TIER),
    ("enterprise.official_rank.*", TIER),
    ("plan_levels.*", TIER),
    ("thresholds.*", _money),
    ("high.*", _money),
    ("enterprise.org_revenue.*", _money),
    ("provisional_plan_fee", _money),
    ("points_per_yuan", _money),
    ("points_per_tenure_month", _money),
    ("points_per_suspension", _penalty),
    ("points_multiplier.*", _money),
    ("brand_points.*", _money),
    ("tenure_points.months", _rising(_whole(0), strict=True)),
    ("tenure_points.years", _rising(_money, strict=True)),
    ("tenure_points.points", _rising(_money, strict=False)),
    ("spend_points.upper_bounds", _rising(_money, strict=True)),
    ("spend_points.points", _rising(_money, strict=False)),
    ("eligibility.segments", _subset(SEGMENTS)),
    ("eligibility.max_*", _whole(0)),
    ("eligible_account_types", _subset(ACCOUNT_TYPES)),
    ("excluded_account_types", _subset(ACCOUNT_TYPES)),
    ("regional.high_provinces", _strings),
)
def _finite(x: Any) -> str | None:
    return None if _number(x) else "is not a finite number"


def _numbers(x: Any) -> str | None:
    if not isinstance(x, (list, tuple)) or not x or any(_finite(v) for v in x):
        return "is not a non-empty list of finite numbers"
    return None


#: domains by the role a scheme file's ``rule`` gives a parameter (tierlib.vocab.spec.roles):
#: an analyst's own parameter names get a domain from what the rule does with them
ROLES: dict[str, Any] = {
    "window": _months(1), "months0": _months(0), "month_of_year": _month_of_year, "number": _finite,
    "money": _money, "threshold": _money, "names": _strings, "flag": _flag, "tier": TIER,
    "bounds": _rising(_finite, strict=True), "points": _numbers,
}
#: lists that must line up: (a, b, how many more entries b has than a)
_PAIRED = (("tenure_points.years", "tenure_points.points", 0), ("tenure_points.months", "tenure_points.points", 0),
           ("spend_points.upper_bounds", "spend_points.points", 1))
#: families ordered up the ladder: thresholds and the other tier-keyed money amounts
_LADDERED = ("thresholds.", "high.", "enterprise.org_revenue.")


def _domain(path: str) -> Any:
    for pattern, domain in DOMAINS:
        if fnmatchcase(path, pattern):
            return domain
    return None


def _dates(params) -> list[dt.date]:
    return sorted({v.start or dt.date.min for p in params for v in p.history})


def _at(p, d: dt.date) -> Any:
    live = [v for v in p.history if (v.start or dt.date.min) <= d]
    return live[-1].value if live else None


def check(s, *, where: str = "", roles: dict[str, str] | None = None) -> None:
    """Raise SchemeError naming the path and the value of the first parameter outside its domain.

    ``roles``: ``{path: role}`` of the parameters a scheme file's rule reads (:data:`ROLES`), the
    domain of a path :data:`DOMAINS` does not name.
    """
    head = where or f"scheme {s.key}"
    roles = roles or {}
    for path, p in s.params.items():
        domain = _domain(path) or ROLES.get(roles.get(path, ""))
        if domain is None:
            raise SchemeError(f"{head}: parameter '{path}' declares no domain: the scheme's rule does not "
                              "read it (add it to tierlib.domains.DOMAINS if it is read elsewhere)")
        for v in p.history:
            if domain == TIER:
                why = None if v.value in s.ladder else f"is not a tier of the ladder ({', '.join(s.ladder)})"
            else:
                why = domain(v.value)
            if why:
                when = f" (from {v.start})" if v.start else ""
                raise SchemeError(f"{head}: {path}: {v.value!r}{when} {why}")
    for a, b, more in _PAIRED:
        if a in s.params and b in s.params:
            for d in _dates([s.params[a], s.params[b]]):
                x, y = _at(s.params[a], d), _at(s.params[b], d)
                if x is not None and y is not None and len(y) != len(x) + more:
                    raise SchemeError(f"{head}: {b}: {len(y)} entries for the {len(x)} of {a} "
                                      f"(needs {len(x) + more})")
    _ladder_order(s, head, {p for p, r in roles.items() if r == "threshold"})


def _ladder_order(s, head: str, thresholds: set[str] = frozenset()) -> None:
    families: dict[str, list[tuple[int, str]]] = {}
    for path in s.params:
        if not path.startswith(_LADDERED) and path not in thresholds:
            continue
        parts = path.split(".")
        tiers = [i for i, x in enumerate(parts) if x in s.ladder]
        if not tiers:
            continue
        i = tiers[-1]
        family = ".".join(parts[:i] + ["*"] + parts[i + 1:])
        families.setdefault(family, []).append((s.ladder.index(parts[i]), path))
    for members in families.values():
        members.sort()
        params = [s.params[path] for _, path in members]
        for d in _dates(params):
            seen: tuple[str, Any] | None = None
            for (_, path), p in zip(members, params):
                v = _at(p, d)
                if v is None:
                    continue
                if seen is not None and v < seen[1]:
                    when = "" if d == dt.date.min else f" (in force from {d})"
                    raise SchemeError(f"{head}: {path}: {v!r} is below {seen[0]} {seen[1]!r}{when}: "
                                      "thresholds must not decrease up the ladder")
                seen = (path, v)


def ladder_bounds(s, path: str, as_of: dt.date) -> tuple[float, float]:
    """The range a tier-keyed threshold may take at ``as_of`` and keep the ladder in order:
    from the tier below's value (0 at the bottom) to the tier above's (infinity at the top).

    >>> from tierlib.schemefiles import load_scheme
    >>> ladder_bounds(load_scheme("unicom_vip"), "thresholds.mobile.gold", dt.date(2025, 1, 1))
    (150, 450)
    """
    parts = path.split(".")
    tiers = [i for i, x in enumerate(parts) if x in s.ladder]
    if not path.startswith(_LADDERED) or not tiers:
        return 0.0, math.inf
    i = tiers[-1]
    rank = s.ladder.index(parts[i])

    def at(r: int) -> Any:
        if not 0 < r < len(s.ladder):
            return None
        other = ".".join(parts[:i] + [s.ladder[r]] + parts[i + 1:])
        return _at(s.params[other], as_of) if other in s.params else None

    below = next((v for r in range(rank - 1, 0, -1) if (v := at(r)) is not None), 0.0)
    above = next((v for r in range(rank + 1, len(s.ladder)) if (v := at(r)) is not None), math.inf)
    return below, above
