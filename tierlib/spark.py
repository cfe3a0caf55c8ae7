"""Run tierlib's polars engine inside Spark: ``tierlib.spark.rate(spark_df, scheme)``.

A customer's ledger depends on that customer's rows only. So the panel is repartitioned by
``customer_id`` (every customer lands whole in one partition), sorted by customer and month
within each partition, and ``mapInArrow`` hands each partition's Arrow batches to a Python
worker, which rates *complete* customers with :func:`tierlib.rate` about
:data:`CHUNK_ROWS` rows at a time (a customer cut by a batch boundary waits for its next
batch). The result is a Spark DataFrame with the ledger columns of docs/CONTRACT.md; Spark has
no categorical type, so ``scheme``, ``assessed``, ``tier``, ``status`` and ``next_tier`` are
strings, ``rank`` is a byte. Rows equal local ``tierlib.rate`` (row order aside).

Needs ``pip install tierlib[spark]`` and tierlib with its dependencies on every executor
(docs/SPARK.md shows how to ship them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator

from tierlib.rating import SchemeLike, _resolve_schemes

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame

__all__ = ["rate", "ledger_schema", "CHUNK_ROWS"]

#: panel rows a Python worker rates at once (whole customers); bounds its memory
CHUNK_ROWS = 500_000

_LEDGER_TYPES = [  # (column, Spark type name) after customer_id
    ("month", "date"), ("scheme", "string"), ("eligible", "boolean"), ("score", "double"),
    ("assessed", "string"), ("assessed_rank", "tinyint"), ("tier", "string"), ("rank", "tinyint"),
    ("floor", "double"), ("valid_until", "date"), ("rerated", "boolean"), ("status", "string"), ("next_tier", "string"), ("to_next", "double"), ("to_keep", "double"),
    ("window_complete", "boolean"), ("flag", "string"),
]


def ledger_schema(customer_id_type):
    """The Spark schema of the ledger, ``customer_id`` typed as in the panel."""
    from pyspark.sql import types as T

    by_name = {"date": T.DateType(), "string": T.StringType(), "boolean": T.BooleanType(),
               "double": T.DoubleType(), "tinyint": T.ByteType()}
    return T.StructType([T.StructField("customer_id", customer_id_type, False)]
                        + [T.StructField(c, by_name[t], True) for c, t in _LEDGER_TYPES])


def _arrow_schema(spark_schema) -> "pa.Schema":
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema

    # Spark reads plain (not large) strings from Python workers unless told otherwise
    return pa.schema([f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f
                      for f in to_arrow_schema(spark_schema)])


def _rate_batches(batches: Iterable["pa.RecordBatch"], schemes: list, target: "pa.Schema",
                  chunk_rows: int) -> Iterator["pa.RecordBatch"]:
    """Rate a partition's batches (sorted by customer and month) customer-whole, chunk by chunk."""
    import polars as pl

    from tierlib.rating import rate

    def ledger(panel: pl.DataFrame) -> Iterator["pa.RecordBatch"]:
        out = rate(panel, schemes).with_columns(pl.col(pl.Categorical).cast(pl.String))
        yield from out.to_arrow().cast(target).to_batches()

    held: list[pl.DataFrame] = []
    rows = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        held.append(pl.from_arrow(batch))
        rows += batch.num_rows
        if rows < chunk_rows:
            continue
        panel = pl.concat(held, how="vertical_relaxed")
        last = panel["customer_id"][-1]
        cut = panel.height - int((panel["customer_id"] == last).sum())  # the last customer may go on
        if cut == 0:
            continue
        yield from ledger(panel.head(cut))
        held, rows = [panel.slice(cut)], panel.height - cut
    if rows:
        yield from ledger(pl.concat(held, how="vertical_relaxed"))


def rate(spark_df: "DataFrame", scheme: SchemeLike | Iterable[SchemeLike], *,
         partitions: int | None = None, chunk_rows: int = CHUNK_ROWS) -> "DataFrame":
    """Rate a Spark DataFrame panel with tierlib's engine on the executors.

    Parameters
    ----------
    spark_df : a Spark DataFrame with the panel columns of RULES.md §1 (``month`` and
        ``join_month`` as DateType; ids string or integer).
    scheme : as for :func:`tierlib.rate`: an id, ``"all"``, a Scheme (e.g. a reform), or a list.
    partitions : Spark partitions to spread customers over (default: Spark's
        ``spark.sql.shuffle.partitions``).
    chunk_rows : panel rows a Python worker rates at once.

    Returns
    -------
    A Spark DataFrame with :func:`ledger_schema`: one row per panel row and scheme. Bad panel
    data fails the Spark job with tierlib's ``PanelError`` message.
    """
    plan = _resolve_schemes(scheme)  # resolved on the driver: unknown schemes fail before any job
    schema = ledger_schema(spark_df.schema["customer_id"].dataType)
    target = _arrow_schema(schema)
    by_customer = (spark_df.repartition(partitions, "customer_id") if partitions
                   else spark_df.repartition("customer_id"))
    ordered = by_customer.sortWithinPartitions("customer_id", "month")
    return ordered.mapInArrow(lambda it: _rate_batches(it, plan, target, chunk_rows), schema)
