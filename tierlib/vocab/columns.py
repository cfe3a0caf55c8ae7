"""The extra panel columns a scheme file declares (``rule.columns``): type-checked, refused as the
panel contract refuses bad values, defaults filled (docs/SCHEMES.md)."""

from __future__ import annotations

import polars as pl

from tierlib.panel import MAX_COUNT, MAX_MONEY, PanelError
from tierlib.params import Scheme
from tierlib.vocab.spec import KINDS

__all__ = ["declared", "TEXT"]

#: the panel dtypes each kind of declared column accepts
_ACCEPTS = {
    "money": (pl.Float32, pl.Float64, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32),
    "count": (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32),
    "bool": (pl.Boolean,),
    "text": (pl.String, pl.Categorical, pl.Enum),
}


#: the dtypes a text column may be held as
TEXT = _ACCEPTS["text"]


def declared(lf: pl.LazyFrame, s: Scheme) -> pl.LazyFrame:
    """The extra panel columns the scheme declares: type-checked, defaults filled."""
    decl = s.rule.get("columns") or {}
    if not decl:
        return lf
    schema = lf.collect_schema()
    add = {}
    for name, spec in decl.items():
        kind, default = spec["type"], spec.get("default")
        if name in schema:
            text = isinstance(schema[name], _ACCEPTS["text"])
            if kind in ("money", "count") and text:  # a CSV panel's column: numbers as text, read strictly
                lf = lf.with_columns(pl.col(name).str.strip_chars().cast(
                    pl.Float64 if kind == "money" else pl.Int64, strict=True))
            elif schema[name] != pl.Null and not isinstance(schema[name], _ACCEPTS[kind]):
                raise PanelError(name, f"wrong type {schema[name]}, expected {KINDS[kind]} "
                                       f"(scheme {s.key} reads it)")
            col = pl.col(name).cast(pl.Float64) if kind == "money" else pl.col(name)
            if kind in ("money", "count"):
                col = pl.struct(pl.col("customer_id"), col.alias("x")).map_batches(
                    lambda b, name=name, kind=kind: _checked(b, name, kind, s.key),
                    return_dtype=pl.Float64 if kind == "money" else pl.Int64)
            add[name] = col.fill_null(default) if default is not None else col
        elif default is None:
            raise PanelError(name, f"required column is missing (scheme {s.key} reads it)")
        else:
            add[name] = pl.lit(default, dtype=pl.Float64 if kind == "money" else None)
    return lf.with_columns(**add)


def _checked(batch: pl.Series, name: str, kind: str, key: str) -> pl.Series:
    """A declared money or count column's values, refused as the panel contract refuses them
    (negative, not finite, above MAX_MONEY): a PanelError naming the column and customers."""
    f = batch.struct
    x = f.field("x")
    x = x.cast(pl.Float64 if kind == "money" else pl.Int64)
    bad = (x < 0) | (x > MAX_MONEY if kind == "money" else x > MAX_COUNT)
    if kind == "money":
        bad = bad | x.is_nan() | x.is_infinite()
    bad = bad.fill_null(False)
    if bad.any():
        ids = f.field("customer_id").filter(bad).unique(maintain_order=True).to_list()
        rule = "negative, not finite or above the plausible maximum" if kind == "money" else "negative or beyond 32 bits"
        raise PanelError(name, f"{rule} (scheme {key} reads it)", ids[:5], int(bad.sum()))
    return x
