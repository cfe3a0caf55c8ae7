"""Dated parameter values with provenance: :class:`Value`, :class:`Param` and reading their YAML leaves.

A leaf of a scheme or benefits file is ``{value, source, reference}`` or a dated history
``{values: [{from, value, source, reference}, ...]}``; :func:`flatten` turns a nested mapping of
leaves into ``{dotted.path: Param}``. :mod:`tierlib.params` builds schemes from them and
:mod:`tierlib.benefits` catalogues; both re-export what they use from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping

import polars as pl

from tierlib.months import as_month

__all__ = ["Value", "Param", "SchemeError", "SOURCES", "flatten"]

#: where a value comes from; ``internal``: the analyst's own documents (a circular, a board paper)
SOURCES = ("seed", "public", "internal", "assumed", "reform")


class SchemeError(ValueError):
    """A scheme, variant or parameter path that does not exist, or a value of the wrong type."""

    __module__ = "tierlib.params"  # its public name, as tracebacks and pickles show it


def _date(x: Any, where: str) -> dt.date:
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    try:
        return dt.date.fromisoformat(str(x))
    except ValueError:
        raise SchemeError(f"{where}: '{x}' is not a date (YYYY-MM-DD)") from None


@dataclass(frozen=True)
class Value:
    """One value of a parameter, in force from ``start`` (None: always) with its provenance."""

    value: Any
    source: str
    reference: str = ""
    start: dt.date | None = None

    @property
    def assumed(self) -> bool:
        return self.source == "assumed"


@dataclass(frozen=True)
class Param:
    """A parameter's dated history of values (oldest first)."""

    path: str
    history: tuple[Value, ...]

    def at(self, as_of: Any = None) -> Any:
        """The value in force at month ``as_of`` (any form :func:`tierlib.months.as_month` takes).

        ``as_of`` may be omitted only for an undated parameter: reading a dated one without a
        month would silently pick one of its values, so it is a :class:`SchemeError` naming the path.
        """
        return self.value_at(as_of).value

    def value_at(self, as_of: Any = None) -> Value:
        if as_of is None:
            if self.dated:
                raise SchemeError(f"parameter '{self.path}' is dated ({self._dates()}): "
                                  "read it at a month (as_of) or per row (Scheme.expr)")
            return self.history[-1]
        try:
            when = as_month(as_of, name=self.path) if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime) \
                else as_of
        except ValueError as e:
            raise SchemeError(str(e)) from None
        live = [v for v in self.history if v.start is None or v.start <= when]
        if not live:
            raise SchemeError(f"parameter '{self.path}' has no value before {self.history[0].start}")
        return live[-1]

    def _dates(self) -> str:
        return ", ".join(f"from {v.start}" if v.start else "always" for v in self.history)

    @property
    def dated(self) -> bool:
        return len(self.history) > 1 or self.history[0].start is not None

    @property
    def assumed(self) -> bool:
        return any(v.assumed for v in self.history)

    def expr(self, month: pl.Expr | None = None) -> pl.Expr:
        """A polars expression giving the value in force at each row's ``month``.

        Months before the first dated value get null (the rule did not exist yet).
        """
        first = self.history[0]
        if not self.dated:
            return pl.lit(first.value)
        month = pl.col("month") if month is None else month
        out: Any = pl.lit(None) if first.start is not None else pl.lit(first.value)
        for v in self.history:
            if v.start is not None:
                out = pl.when(month >= v.start).then(pl.lit(v.value)).otherwise(out)
        return out


def _leaf(path: str, node: Mapping) -> Param:
    if "values" in node:
        history = []
        for item in node["values"]:
            if "from" not in item or "value" not in item:
                raise SchemeError(f"parameter '{path}': each dated value needs 'from' and 'value'")
            history.append(_value(path, item, _date(item["from"], path)))
        history.sort(key=lambda v: v.start or dt.date.min)
        return Param(path, tuple(history))
    return Param(path, (_value(path, node, None),))


def _value(path: str, node: Mapping, start: dt.date | None) -> Value:
    source = str(node.get("source", ""))
    if not source.startswith(SOURCES):
        raise SchemeError(f"parameter '{path}': source '{source}' must start with one of {SOURCES}")
    return Value(node["value"], source, str(node.get("reference", "")), start)


def flatten(node: Mapping, prefix: str = "") -> dict[str, Param]:
    """Nested leaves -> ``{dotted.path: Param}``; a leaf without value and source is a SchemeError.

    >>> flatten({"a": {"b": {"value": 1, "source": "assumed"}}})["a.b"].at()
    1
    """
    out: dict[str, Param] = {}
    for key, sub in node.items():
        path = f"{prefix}{key}"
        if not isinstance(sub, Mapping):
            raise SchemeError(f"parameter '{path}' needs value and source")
        if "value" in sub or "values" in sub:
            out[path] = _leaf(path, sub)
        else:
            out.update(flatten(sub, path + "."))
    return out
