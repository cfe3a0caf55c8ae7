"""tierlib.spark: the polars engine inside Spark (local[2], small data) equals local rate().

Skipped, with the reason, when pyspark (``pip install tierlib[spark]``) or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import tierlib
from tierlib.engine import LEDGER
from tierlib.synth import make_panel

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'tierlib[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java (17+): no 'java' on PATH and no JAVA_HOME", allow_module_level=True)

import tierlib.spark as tspark  # noqa: E402

KEYS = ["scheme", "customer_id", "month"]


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    old = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the workers import tierlib from this venv
    session = (SparkSession.builder.master("local[2]").appName("tierlib-tests")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "3")
               # small Arrow batches: customers are cut by batch boundaries and must be rejoined
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "97")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if old is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = old


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    # Spark has no Enum: text columns travel as strings
    p = make_panel(50, 20, seed=5)[0].drop("carrier")
    return p.with_columns(pl.col(pl.Enum).cast(pl.String))


def _local(panel: pl.DataFrame, scheme) -> pl.DataFrame:
    return tierlib.rate(panel, scheme).with_columns(pl.col(pl.Categorical).cast(pl.String)).sort(KEYS)


def _collect(sdf) -> pl.DataFrame:
    return pl.from_arrow(sdf.toArrow()).sort(KEYS)


def test_all_schemes_equal_local_rate(spark, panel):
    sdf = spark.createDataFrame(panel.to_arrow())
    out = tspark.rate(sdf, "all", chunk_rows=150)  # several chunks per partition
    assert out.columns == LEDGER
    assert out.schema["rank"].dataType.typeName() == "byte"
    got = _collect(out)
    assert_frame_equal(got, _local(panel, "all"), check_dtypes=False)
    assert got["rank"].dtype == pl.Int8 and got["customer_id"].dtype == pl.Int64


def test_string_ids_and_a_reform(spark, panel):
    p = panel.with_columns(pl.col("customer_id").cast(pl.String).str.zfill(5))
    reform = tierlib.load_scheme("unicom_vip").with_values({"thresholds.mobile.gold": 200})
    out = _collect(tspark.rate(spark.createDataFrame(p.to_arrow()), [reform, "telecom_club:high"], partitions=2))
    assert_frame_equal(out, _local(p, [reform, "telecom_club:high"]), check_dtypes=False)
    assert out["customer_id"].dtype == pl.String


def test_bad_panel_fails_the_job_with_the_panel_error(spark, panel):
    bad = panel.head(60).with_columns(billed=pl.when(pl.col("month") == pl.col("month").max())
                                      .then(-1.0).otherwise(pl.col("billed")))
    with pytest.raises(Exception, match="negative money"):
        tspark.rate(spark.createDataFrame(bad.to_arrow()), "mobile_credit").collect()


def test_unknown_scheme_fails_on_the_driver(spark, panel):
    with pytest.raises(tierlib.SchemeError, match="unknown scheme"):
        tspark.rate(spark.createDataFrame(panel.head(5).to_arrow()), "nope")
