"""Benefit catalogues: what each tier of a scheme is entitled to, and what it costs a year.

One YAML file per scheme, ``tierlib/benefits/<scheme id>.yaml``, with the leaves of the rule
files (``{value, source, reference}``)::

    entitlements:
      sim_change: {label: 免费换卡 free SIM change, unit: change}
    parameters:
      sim_change:
        min_tier: {value: star2, source: seed 000, reference: "为2-7星级客户提供免费换卡服务"}
        quantity:                       # units a member is entitled to a year, by tier
          default: {value: 1, source: assumed, reference: "..."}
          star5: {value: 2, source: seed 004, reference: "..."}
        use_rate: {value: 0.1, source: assumed, reference: "share of the units used"}
        unit_cost: {value: 20.0, source: assumed, reference: "yuan per unit used"}

Who gets what, and how much, comes from the seeds; unit costs and use rates are assumptions an
analyst edits (``source: assumed``). The yearly cost of a ``count`` entitlement per member of
tier *t* is ``quantity(t) x use_rate x unit_cost``. A ``points`` entitlement costs
``yuan paid x multiplier(t) x point_value x use_rate``, the multiplier read from the scheme's own
parameter (``multiplier_param``), so a reform of the multiplier changes the cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import polars as pl
import yaml

from tierlib.cardtext import catalogue_card
from tierlib.dated import Param, SchemeError, flatten
from tierlib.params import Scheme
from tierlib.schemefiles import load_scheme

__all__ = ["Entitlement", "Catalogue", "load_catalogue", "catalogues_for", "CATALOGUE_DIR"]

CATALOGUE_DIR = Path(__file__).parent
KINDS = ("count", "points")
COLUMNS = {"tier": pl.String, "rank": pl.Int8, "entitlement": pl.String, "label": pl.String,
           "kind": pl.String, "per_member": pl.Float64, "per_yuan_paid": pl.Float64,
           "assumed": pl.Boolean, "sources": pl.String}


@dataclass(frozen=True)
class Entitlement:
    """One entitlement: its id, a label (Chinese and English), how it is costed and its unit."""

    name: str
    label: str
    kind: str = "count"
    unit: str = ""
    multiplier_param: str | None = None


@dataclass(frozen=True)
class Catalogue:
    """The entitlements of one scheme with their quantities and unit costs (with provenance)."""

    scheme: str
    description: str
    entitlements: Mapping[str, Entitlement]
    params: Mapping[str, Param]
    changes: tuple[str, ...] = ()

    def p(self, path: str) -> Param:
        try:
            return self.params[path]
        except KeyError:
            raise SchemeError(f"benefits of {self.scheme}: no parameter '{path}'") from None

    def quantity(self, name: str, tier: str) -> Param:
        """The quantity parameter that applies to ``tier`` (its own, else ``default``, else flat)."""
        for path in (f"{name}.quantity.{tier}", f"{name}.quantity.default", f"{name}.quantity"):
            if path in self.params:
                return self.params[path]
        raise SchemeError(f"benefits of {self.scheme}: '{name}' has no quantity for tier '{tier}' "
                          f"(give {name}.quantity.{tier} or {name}.quantity.default)")

    def with_values(self, changes: Mapping[str, Any]) -> "Catalogue":
        """A new catalogue with some values replaced (e.g. your own unit costs).

        Uses :meth:`tierlib.params.Scheme.with_values`, so an unknown path or a value of another
        type is a :class:`~tierlib.params.SchemeError` naming the path.

        >>> c = load_catalogue("telecom_star").with_values({"sim_change.unit_cost": 25})
        >>> c.p("sim_change.unit_cost").at(), c.changes
        (25, ('sim_change.unit_cost = 25',))
        """
        holder = Scheme(id=f"{self.scheme} benefits", name="", label="", carrier="", ladder=("none",),
                        labels={}, holding="none", params=self.params, components={}, module_name="")
        new = holder.with_values(changes, reference="edited unit cost or quantity", check_domains=False)
        return replace(self, params=new.params, changes=self.changes + new.changes)

    def assumptions(self) -> list[Param]:
        return [p for p in self.params.values() if p.assumed]

    def table(self, scheme: Scheme | str | None = None) -> pl.DataFrame:
        """One row per tier and entitlement the tier gets: yearly cost per member and per yuan paid.

        ``per_member`` is the yearly cost of a ``count`` entitlement for one member;
        ``per_yuan_paid`` the cost per yuan the member pays (``points``). ``assumed`` is true
        when any number used is an assumption; ``sources`` lists them.

        >>> t = load_catalogue("mobile_gotone").table()
        >>> t.filter(entitlement="airport_lounge").select("tier", "per_member").rows()
        [('vip', 45.0), ('silver', 90.0), ('gold', 270.0), ('platinum', 270.0), ('diamond', 540.0)]
        """
        s = load_scheme(self.scheme if scheme is None else scheme)
        rows = []
        for name, e in self.entitlements.items():
            lowest = self.p(f"{name}.min_tier").at()
            start = s.rank(lowest) if lowest in s.ladder else _bad_tier(self, name, lowest, s)
            for tier in s.ladder[start:]:
                rows.append(self._row(s, e, tier))
        return pl.DataFrame(rows, schema=COLUMNS, orient="row")

    def _row(self, s: Scheme, e: Entitlement, tier: str) -> tuple:
        name = e.name
        used = {"min_tier": self.p(f"{name}.min_tier"), "use_rate": self.p(f"{name}.use_rate")}
        if e.kind == "points":
            used["point_value"] = self.p(f"{name}.point_value")
            mult = s.p(f"{e.multiplier_param}.{tier}")
            used[f"multiplier ({s.id}.{mult.path})"] = mult
            per_member = 0.0
            per_yuan = float(mult.at()) * used["point_value"].at() * used["use_rate"].at()
        else:
            used["quantity"] = self.quantity(name, tier)
            used["unit_cost"] = self.p(f"{name}.unit_cost")
            per_member = float(used["quantity"].at() * used["use_rate"].at() * used["unit_cost"].at())
            per_yuan = 0.0
        sources = "; ".join(f"{k}: {p.value_at().source}" for k, p in used.items())
        return (tier, s.rank(tier), name, e.label, e.kind, per_member, per_yuan,
                any(p.assumed for p in used.values()), sources)

    def costs(self, members: pl.DataFrame, scheme: Scheme | str | None = None) -> pl.DataFrame:
        """Yearly cost by tier and entitlement, given the members of each tier and what they pay.

        ``members`` has one row per tier: ``tier``, ``members`` (count of members who hold the
        benefits, i.e. not frozen) and ``paid`` (their yearly yuan paid).

        >>> m = pl.DataFrame({"tier": ["silver", "diamond"], "members": [10, 1], "paid": [0.0, 0.0]})
        >>> c = load_catalogue("mobile_gotone").costs(m)
        >>> c.group_by("tier").agg(pl.col("yearly_cost").sum().round(2)).sort("tier").rows()
        [('diamond', 644.82), ('silver', 1293.8)]
        """
        t = self.table(scheme)
        out = t.join(members.select("tier", "members", "paid"), on="tier", how="inner", maintain_order="left")
        return out.with_columns(
            yearly_cost=pl.col("members") * pl.col("per_member") + pl.col("paid") * pl.col("per_yuan_paid"),
        ).select("tier", "rank", "entitlement", "label", "kind", "members", "yearly_cost", "assumed")

    def card(self) -> str:
        """Markdown: the entitlements and every number with its provenance, assumptions marked.

        >>> print(load_catalogue("mobile_credit").card().splitlines()[-1])
        - `emergency_reopen.unit_cost` = 10.0 [**assumed**] credit risk and handling of a reopen, yuan
        """
        return catalogue_card(self)

    def __repr__(self) -> str:
        return f"<Catalogue {self.scheme}: {len(self.entitlements)} entitlements, {len(self.assumptions())} assumed values>"


def _bad_tier(c: Catalogue, name: str, tier: str, s: Scheme) -> int:
    raise SchemeError(f"benefits of {c.scheme}: '{name}.min_tier' = '{tier}' is not a tier of {s.key} "
                      f"(ladder: {', '.join(s.ladder)})")


def load_catalogue(scheme: str | Scheme | Path) -> Catalogue:
    """The benefits catalogue of a scheme (by id, ``id:variant``, Scheme, or a YAML path).

    >>> load_catalogue("telecom_club:high")
    <Catalogue telecom_club: 4 entitlements, 9 assumed values>
    """
    if isinstance(scheme, Path) or str(scheme).endswith((".yaml", ".yml")):
        path = Path(scheme)
    else:
        sid = scheme.id if isinstance(scheme, Scheme) else str(scheme).split(":", 1)[0]
        path = CATALOGUE_DIR / f"{sid}.yaml"
    if not path.exists():
        raise SchemeError(f"no benefits catalogue {path} (known: "
                          f"{', '.join(sorted(p.stem for p in CATALOGUE_DIR.glob('*.yaml')))})")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    params = flatten(doc.get("parameters") or {})
    ents = {}
    for name, meta in (doc.get("entitlements") or {}).items():
        e = Entitlement(name, **(meta or {}))
        if e.kind not in KINDS:
            raise SchemeError(f"{path}: entitlement '{name}': kind '{e.kind}' is none of {KINDS}")
        need = ("min_tier", "use_rate") + (("point_value",) if e.kind == "points" else ("unit_cost",))
        missing = [f"{name}.{k}" for k in need if f"{name}.{k}" not in params]
        if missing:
            raise SchemeError(f"{path}: missing parameter(s) {', '.join(missing)}")
        ents[name] = e
    return Catalogue(str(doc.get("scheme", path.stem)), str(doc.get("description", "")).strip(),
                     MappingProxyType(ents), MappingProxyType(params))


def catalogues_for(schemes: Mapping[str, Scheme], given: Mapping[str, Catalogue] | None = None
                   ) -> dict[str, Catalogue]:
    """A catalogue per scheme key: the given one (by key or scheme id), else the scheme id's file
    (or that of the scheme it extends, nearest first).

    A scheme without a file gets an empty catalogue (cost 0), whose description says so.

    >>> cats = catalogues_for({"vip": load_scheme("unicom_vip"), "club": load_scheme("telecom_club:high")})
    >>> {k: c.scheme for k, c in cats.items()}
    {'vip': 'unicom_vip', 'club': 'telecom_club'}
    """
    given = given or {}
    out = {}
    for key, s in schemes.items():
        # a variant that extends a scheme keeps the benefits of the scheme it extends
        files = [i for i in (s.id, *s.lineage) if (CATALOGUE_DIR / f"{i}.yaml").exists()]
        if key in given or s.id in given:
            out[key] = given.get(key, given.get(s.id))
        elif files:
            out[key] = load_catalogue(files[0])
        else:
            out[key] = Catalogue(s.id, f"no benefits catalogue for {s.id}: its cost is 0",
                                 MappingProxyType({}), MappingProxyType({}))
    return out
