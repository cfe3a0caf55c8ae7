"""The generator's parameters (:class:`Knobs`), its value tables and their checks.

Part of :mod:`tierlib.synth`, which re-exports the public names. The panel's own enums
(account types, lines, segments, official ranks) are :mod:`tierlib.panel`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tierlib.panel import ACCOUNT_TYPES, RANKS

__all__ = ["Knobs", "MAIN_SCHEME", "BLOCK", "CARRIERS", "PROVINCES", "SHARE_KNOBS"]

#: The carrier's main scheme, whose tier drops raise the churn hazard.
MAIN_SCHEME = {"telecom": "telecom_star", "unicom": "unicom_vip", "mobile": "mobile_gotone"}
#: Customers per generation block (part of the determinism contract: changing it changes data).
BLOCK = 100_000

CARRIERS = ("mobile", "telecom", "unicom")
# Provinces (pinyin ids) weighted by population in millions (2020 census, rounded).
PROVINCES = {
    "guangdong": 126, "shandong": 101, "henan": 99, "jiangsu": 85, "sichuan": 84, "hebei": 75,
    "hunan": 66, "zhejiang": 65, "anhui": 61, "hubei": 58, "guangxi": 50, "yunnan": 47,
    "jiangxi": 45, "liaoning": 43, "fujian": 42, "shaanxi": 40, "guizhou": 39, "shanxi": 35,
    "chongqing": 32, "heilongjiang": 31, "xinjiang": 26, "gansu": 25, "shanghai": 25,
    "inner_mongolia": 24, "jilin": 24, "beijing": 22, "tianjin": 14, "hainan": 10,
    "ningxia": 7, "qinghai": 6, "tibet": 4,
}


def _d(**kw):
    return field(default_factory=lambda: dict(kw))


@dataclass(frozen=True)
class Knobs:
    """Every parameter of the generator, with its default (money in yuan, rates per month).

    Pass any of them as keyword arguments to :func:`make_panel`. The defaults are set near
    public carrier figures (monthly churn 1-2 %, median mobile ARPU 50-90 yuan) and tuned so a
    few percent of customers reach the top tier of each carrier's main scheme.
    """

    # --- population -----------------------------------------------------------------------
    carrier_shares: dict = _d(mobile=0.60, telecom=0.22, unicom=0.18)
    brand_shares: dict = _d(mobile={"gotone": 0.12, "mzone": 0.28, "easyown": 0.60},
                            telecom={"tianyi": 0.75, "ehome": 0.25},
                            unicom={"wo": 0.80, "ruyitong": 0.20})
    # share of fixed / broadband primary lines (the rest is mobile); ehome is a home bundle
    fixed_line_share: dict = _d(mobile=0.0, telecom=0.0, unicom=0.04, ehome=0.30)
    broadband_line_share: dict = _d(mobile=0.03, telecom=0.0, unicom=0.08, ehome=0.70)
    account_type_shares: dict = _d(standard=0.885, prepaid=0.05, data_card=0.02,
                                   family_member=0.015, secondary_card=0.012, staff_plan=0.006,
                                   payphone=0.005, public_free=0.004, test=0.003)
    enterprise_share: float = 0.03          # key persons among standard accounts
    org_revenue_median: float = 40_000.0    # yuan a year, lognormal
    org_revenue_sigma: float = 1.2
    official_rank_shares: dict = _d(bureau=0.03, division=0.09, section=0.18)  # rest: none
    extra_mobile_p: float = 0.25            # P(one more mobile line), geometric
    fleet_share: float = 0.003              # customers with 11-20 mobile lines
    broadband_addon_p: float = 0.35         # mobile-line customers who also hold broadband
    fixed_addon_p: float = 0.05             # non-fixed-line customers who also hold a fixed line
    ehome_fixed_p: float = 0.6              # ... and ehome (home bundle) customers
    itv_p: float = 0.5                      # broadband holders with an ITV box
    # --- tenure ---------------------------------------------------------------------------
    new_join_share: float = 0.25            # customers whose join month is inside the panel
    mean_tenure_months: float = 60.0        # exponential tenure at start, long-standing customers
    old_guard_share: float = 0.15           # joined uniformly between earliest_join and 2012
    earliest_join: str = "2000-01-01"
    # --- spend ----------------------------------------------------------------------------
    brand_median: dict = _d(gotone=170.0, mzone=65.0, easyown=47.0, tianyi=75.0, ehome=120.0,
                            wo=70.0, ruyitong=40.0)
    line_factor: dict = _d(mobile=1.0, fixed=0.7, broadband=1.0)
    account_factor: dict = _d(standard=1.0, prepaid=0.6, data_card=0.5, family_member=0.5,
                              secondary_card=0.4, staff_plan=0.5, payphone=0.3,
                              public_free=1.0, test=0.2)
    enterprise_factor: float = 2.0
    lines_elasticity: float = 0.5           # spend ~ n_mobile ** elasticity
    spend_sigma: float = 0.65               # cross-section sd of the log level
    high_value_share: float = 0.04          # heavy tail: level x exp(N(mu, sd))
    high_value_log_mu: float = 1.8
    high_value_log_sd: float = 0.5
    ar_rho: float = 0.85                    # persistence of the monthly log deviation
    ar_sd: float = 0.08
    noise_sd: float = 0.06                  # transitory month noise (log)
    drift_sd: float = 0.003                 # per-customer log drift per month
    decliner_share: float = 0.20            # customers whose spend falls from an onset month
    decline_rate: tuple = (0.02, 0.06)      # uniform range, log points per month
    season: tuple = (1.03, 1.06, 0.99, 0.98, 0.99, 0.99, 1.01, 1.02, 0.99, 1.00, 0.97, 0.97)
    plan_catalogue: tuple = (8, 18, 38, 58, 88, 128, 158, 188, 238, 288, 388, 588)
    plan_ratio: float = 0.8                 # desired plan: largest fee <= ratio x level
    plan_review_p: float = 0.06             # monthly chance to move to the desired plan
    no_plan_accounts: tuple = ("prepaid", "payphone", "public_free", "test")
    paid_before: bool = True                # give left-truncated customers a paid_before column ...
    paid_before_factor: tuple = (0.7, 1.0)  # ... = months before start x level x U(a, b)
    # --- arrears --------------------------------------------------------------------------
    arrears_beta: tuple = (0.6, 30.0)       # per-customer P(falling into arrears), Beta(a, b)
    arrears_stay_p: float = 0.6             # P(still in arrears next month)
    decliner_arrears_factor: float = 2.0
    suspension_p: tuple = (0.5, 0.1)        # P(1 suspension), P(2) in an arrears month
    arrears_shortfall: tuple = (0.4, 1.0)   # share of the bill left unpaid in arrears, U(a, b)
    prepaid_suspension_p: float = 0.02      # balance run out (no arrears for prepaid)
    # --- churn ----------------------------------------------------------------------------
    base_hazard: float = 0.0125             # monthly hazard of a reference customer
    hazard_new: float = 2.0                 # tenure factor at the join month ...
    hazard_long: float = 0.8                # ... decaying to this for long tenure
    hazard_tenure_scale: float = 12.0       # months
    hazard_trend: float = 1.5               # exp(coef x fall): fall = -log(last 3 / prior 3 months)
    hazard_arrears: float = 2.5
    hazard_suspension: float = 1.5
    hazard_account: dict = _d(prepaid=1.8, data_card=1.5, secondary_card=1.5, test=0.5)
    hazard_enterprise: float = 0.6
    drop_effect: float = 2.5                # hazard multiplier after a tier drop ...
    drop_window: int = 3                    # ... for the drop month and the next months
    max_hazard: float = 0.9

    def __post_init__(self):
        _check_shares(self)
        bad = [name for name, ok in (
            ("base_hazard", 0 < self.base_hazard < 1), ("max_hazard", 0 < self.max_hazard <= 1),
            ("drop_effect", self.drop_effect >= 0),
            ("drop_window", isinstance(self.drop_window, int) and self.drop_window >= 1),
            ("ar_rho", 0 <= self.ar_rho < 1), ("new_join_share", 0 <= self.new_join_share <= 1),
            ("plan_catalogue", list(self.plan_catalogue) == sorted(self.plan_catalogue)),
            ("season", len(self.season) == 12),
        ) if not ok]
        if bad:
            raise ValueError(f"knob(s) out of range: {', '.join(f'{b}={getattr(self, b)!r}' for b in bad)}")

    @classmethod
    def make(cls, **kw) -> Knobs:
        """Knobs from keyword overrides. An unknown name is a TypeError.

        A *share* knob (:data:`SHARE_KNOBS`) given is the mix used, whole: names left out get
        share 0, and the shares must sum to 1 (``official_rank_shares``: at most 1, the rest
        has no rank), else a ValueError names the knob and the sum; nothing is renormalised.
        ``brand_shares`` replaces the mix of each carrier it names. Every other dict knob is
        merged into its default, so ``brand_median={"gotone": 200.0}`` changes one brand.
        """
        default = cls()
        for name, value in kw.items():
            current = getattr(default, name, None)
            if name == "brand_shares" and isinstance(value, Mapping):
                kw[name] = {**current, **{c: dict(v) for c, v in value.items()}}
            elif isinstance(current, dict) and isinstance(value, Mapping) and name not in SHARE_KNOBS:
                kw[name] = {**current, **value}
            elif isinstance(value, Mapping):
                kw[name] = dict(value)
            elif isinstance(value, list):
                kw[name] = tuple(value)
        return cls(**kw)


#: Share knobs: the dict given is the whole mix (see :meth:`Knobs.make`); name -> allowed keys.
SHARE_KNOBS = {"carrier_shares": CARRIERS, "account_type_shares": ACCOUNT_TYPES,
               "official_rank_shares": RANKS}


def _check_share(name: str, shares, allowed, *, at_most: bool = False) -> None:
    if not isinstance(shares, Mapping) or not shares:
        raise ValueError(f"knob {name}: expected a non-empty dict name -> share, got {shares!r}")
    unknown = [x for x in shares if x not in allowed]
    if unknown:
        raise ValueError(f"knob {name}: unknown name(s) {', '.join(map(repr, unknown))} "
                         f"(one of {', '.join(allowed)})")
    bad = {x: v for x, v in shares.items() if not (isinstance(v, (int, float)) and 0 <= v <= 1)}
    if bad:
        raise ValueError(f"knob {name}: shares must be numbers in [0, 1], got {bad}")
    total = float(sum(shares.values()))
    if (total > 1 + 1e-9) if at_most else abs(total - 1) > 1e-9:
        need = "at most 1 (the rest: no rank)" if at_most else "1"
        raise ValueError(f"knob {name}: shares {dict(shares)} sum to {total:g}, not {need}; "
                         "give the whole mix (names left out get share 0)")


def _check_shares(k: Knobs) -> None:
    for name, allowed in SHARE_KNOBS.items():
        _check_share(name, getattr(k, name), allowed, at_most=name == "official_rank_shares")
    for carrier in CARRIERS:
        if carrier not in k.brand_shares:
            raise ValueError(f"knob brand_shares: no brand mix for carrier {carrier!r}")
        _check_share(f"brand_shares[{carrier!r}]", k.brand_shares[carrier], tuple(k.brand_shares[carrier]))
