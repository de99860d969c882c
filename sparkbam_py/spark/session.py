"""A SparkSession with the settings this library needs, for scripts, notebooks and tests.

Under ``spark-submit`` (or with ``SPARK_REMOTE`` set for Spark Connect) the master and
resources come from there and are left alone; otherwise the session runs locally.
"""
from __future__ import annotations

import os
import sys
from typing import Mapping, Optional

from ..errors import SparkVersionError

# Executors must run this interpreter (or one with sparkbam_py installed): with the
# machine's default python they fail with ModuleNotFoundError.
PYTHON_ENV_VARS = ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")
LOOPBACK = "127.0.0.1"
DEFAULT_LOCAL_MASTER = "local[*]"

# Sane defaults for a local session; every one can be overridden through ``config``.
LOCAL_DEFAULTS: Mapping[str, str] = {
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "WARN",
    # Few shuffle partitions: local data is small and each task costs ~25 ms.
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def prepare_environment() -> str:
    """Point PySpark at this interpreter and at loopback, unless already set; returns the python."""
    python = os.environ.get("PYSPARK_PYTHON") or sys.executable
    for name in PYTHON_ENV_VARS:
        os.environ.setdefault(name, python)
    os.environ.setdefault("SPARK_LOCAL_IP", LOOPBACK)
    return python


def _launched_by_spark_submit() -> bool:
    # spark-submit starts the JVM first and hands its gateway to the Python driver.
    return "PYSPARK_GATEWAY_PORT" in os.environ


def get_spark(app_name: str = "sparkbam", master: Optional[str] = None, config: Optional[Mapping[str, str]] = None):
    """The active SparkSession, or a new one with the settings this library needs.

    ``spark.pyspark.python`` defaults to this interpreter so executors can import the library;
    a local session also gets quiet, small-data defaults (each one overridable by ``config``).

    Args:
        app_name: the application's name.
        master: the master URL; default ``local[*]``, unless spark-submit or ``SPARK_REMOTE``
            (Spark Connect) decide it.
        config: Spark settings, applied last.

    Returns:
        A ``pyspark.sql.SparkSession`` (a Connect session when ``SPARK_REMOTE`` is set).
    """
    from pyspark.sql import SparkSession

    python = prepare_environment()
    builder = SparkSession.builder.appName(app_name)
    if os.environ.get("SPARK_REMOTE") and master is None:
        # Spark Connect: the server owns every runtime setting.
        return builder.getOrCreate()
    if master is None and not _launched_by_spark_submit():
        master = DEFAULT_LOCAL_MASTER
    if master is not None:
        builder = builder.master(master)
    settings = {"spark.pyspark.python": python}
    if not _launched_by_spark_submit():
        settings.update(LOCAL_DEFAULTS)
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def is_connect(spark) -> bool:
    """True for a Spark Connect session (no SparkContext, no RDDs)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def runs_on_this_machine(spark) -> bool:
    """True when every task runs on this (the driver's) machine: a classic session on a local
    master (``local[N]``, ``local-cluster[...]``), whose tasks can share files on local disk."""
    return not is_connect(spark) and spark.sparkContext.master.startswith("local")


def local_scratch_root(spark) -> str:
    """Where this machine's tasks keep scratch files: where Spark keeps its own (the first
    folder of ``SPARK_LOCAL_DIRS``, which overrides ``spark.local.dir`` as in Spark's
    ``Utils.getConfiguredLocalDirs``), else the system's temporary folder."""
    import tempfile

    folders = os.environ.get("SPARK_LOCAL_DIRS") or spark.sparkContext.getConf().get("spark.local.dir", "")
    return folders.split(",")[0].strip() or tempfile.gettempdir()


def make_active_for_writes(spark) -> None:
    """Make ``spark`` the active session of the JVM thread this Python thread calls through.

    A write looks a Python data source up in the JVM thread's active session
    (``DataSource.lookupDataSource``), where a read asks the DataFrame's session; a Python
    thread other than the one that made the session calls through a JVM thread that has
    none, so without this ``format("bam")`` (or ``"vcf"``...) would not be found.  Connect's server sets it.
    """
    if not is_connect(spark):
        jvm_session = spark._jvm.org.apache.spark.sql.SparkSession
        jvm_session.setActiveSession(spark._jsparkSession)


def spark_major_version(spark) -> int:
    return int(spark.version.split(".")[0])


# Python data sources (``pyspark.sql.datasource``, ``spark.dataSource``) came with Spark 4.0.
FIRST_DATASOURCE_SPARK = 4


def has_python_data_sources(spark) -> bool:
    """Whether ``spark`` (classic or Connect) can register Python data sources."""
    return spark_major_version(spark) >= FIRST_DATASOURCE_SPARK


def require_python_data_sources(spark, what: str, instead: str) -> None:
    """:class:`SparkVersionError` unless ``spark`` has Python data sources; ``instead`` says
    what to use on older Spark."""
    if not has_python_data_sources(spark):
        raise SparkVersionError(f"{what} needs Spark >= {FIRST_DATASOURCE_SPARK}.0 (Python data sources); "
                                f"this session runs Spark {spark.version}: {instead}")
