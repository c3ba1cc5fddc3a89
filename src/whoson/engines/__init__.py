"""The report on other engines: DuckDB and Apache Spark, from one Ibis definition.

``engine="python"`` is the in-process engine (a :class:`~whoson.Tracker`);
``"duckdb"`` (extra ``[sql]``) and ``"spark"`` (extra ``[spark]``, Java 17)
run :mod:`whoson.engines.definition` where the data is, and the python side
only assembles the final :class:`~whoson.metrics.report.Report` (shared with
the python engine). Sources: a JSON Lines log, a store URL, or a Parquet
directory written by ``whoson export`` (see docs/scale.md).

>>> import tempfile, os, whoson
>>> log = os.path.join(tempfile.mkdtemp(), "a.jsonl")
>>> with open(log, "w") as f:
...     _ = f.write('{"id":"1","type":"widget_click","ts":"2026-03-01T12:00:00Z","visitor":"v"}\\n')
>>> whoson.engines.report(log, engine="duckdb", as_of="2026-03-02T00:00:00Z").visitors.with_click
1
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from whoson.core.errors import ConfigError
from whoson.core.events import Event
from whoson.metrics.params import DEFAULTS, ReportParams
from whoson.metrics.report import Report

if TYPE_CHECKING:
    from whoson.engines.vectorlog import TableRead
    from whoson.tracker import Tracker

__all__ = ["ENGINES", "connect", "log_report", "report", "report_events", "report_table"]

ENGINES = ("python", "duckdb", "spark")
DEFAULT_SPARK_MASTER = "local[2]"


def _check(engine: str) -> None:
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r} must be one of {', '.join(ENGINES)}")


def connect(engine: str, spark_master: str | None = None) -> Any:
    """An Ibis connection for ``engine`` (``duckdb`` in memory, or a Spark session).

    A Spark session already running in this process is reused; otherwise one
    starts on ``spark_master`` (default ``local[2]``) with UTC as its zone.
    """
    _check(engine)
    import importlib.util

    if importlib.util.find_spec("ibis") is None:  # pragma: no cover - depends on the installed extras
        raise ConfigError("the duckdb and spark engines need ibis: pip install 'whoson[sql]'")
    if engine == "duckdb":
        from whoson.engines.shape import DuckDB

        return DuckDB()  # Ibis is imported only if a query has to be compiled
    if engine == "spark":
        try:
            from pyspark.sql import SparkSession
        except ImportError:  # pragma: no cover - depends on the installed extras
            raise ConfigError("the spark engine needs pyspark: pip install 'whoson[spark]'") from None
        master = spark_master or DEFAULT_SPARK_MASTER
        builder = (
            SparkSession.builder.appName("whoson").master(master)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
        if master.startswith("local"):
            # One machine: a few shuffle partitions, not the cluster default of 200.
            builder = builder.config("spark.sql.shuffle.partitions", "4")
        import ibis

        session = _quiet_start(builder)
        session.conf.set("spark.sql.session.timeZone", "UTC")
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session)
    raise ConfigError("the python engine needs no connection")


def _quiet_start(builder: Any) -> Any:
    """``builder.getOrCreate()`` with a new JVM's own output sent to a log file, not to our stderr.

    The JVM that pyspark starts inherits file descriptor 2: its start-up
    warnings and later log lines would interleave with whoson's messages
    (say, the skipped lines of a log). While the session starts, descriptor 2
    points at ``whoson-spark-*.log`` in the temporary directory; an error
    still reaches the caller as a Python exception. A session that already
    runs is returned as it is.
    """
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is not None:
        return builder.getOrCreate()
    import sys

    log = tempfile.NamedTemporaryFile(prefix="whoson-spark-", suffix=".log", delete=False)  # noqa: SIM115
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(log.fileno(), 2)
        return builder.getOrCreate()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        log.close()


def _parquet_table(con: Any, engine: str, directory: str) -> Any:
    if engine == "duckdb":
        from whoson.engines.shape import named

        pattern = os.path.join(directory, "**", "*.parquet").replace("'", "''")
        # A fixed name: the compiled SQL that reads it is then the same every run.
        return named(con, "whoson_events", f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)")
    return con.read_parquet(directory)


def report_events(
    events: Iterable[Event], params: ReportParams, engine: str, spark_master: str | None = None,
    *, by: str | None = None, previous: ReportParams | None = None,
) -> Report:
    """The report of ``params`` over typed events, computed by ``engine`` (duckdb or spark).

    ``by`` adds a breakdown; ``previous`` (the compared range's parameters)
    adds ``previous`` and ``change``.
    """
    from whoson.engines.parquet import events_table

    return report_table(events_table(events), params, engine, spark_master, by=by, previous=previous)


def report_table(
    table: Any, params: ReportParams, engine: str, spark_master: str | None = None,
    *, by: str | None = None, previous: ReportParams | None = None,
) -> Report:
    """:func:`report_events` over an Arrow table of events (:func:`whoson.engines.parquet.schema`)."""
    from whoson.engines.run import engine_report, named_table

    con = connect(engine, spark_master)
    if engine == "duckdb":
        return engine_report(con, named_table(con, "whoson_events", table), params, by, previous)
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="whoson-events-") as directory:
        pq.write_table(table, os.path.join(directory, "events.parquet"))
        return engine_report(con, _parquet_table(con, engine, directory), params, by, previous)


def log_report(
    read: TableRead, engine: str, probe: Tracker, options: Mapping[str, Any], *,
    spark_master: str | None = None,
) -> Report:
    """The report of a log read by :func:`whoson.engines.vectorlog.read_for_engine`, on ``engine``.

    The read events go straight into the engine's table: no store, no
    projection. ``probe`` (a tracker holding no events, with the settings the
    log was read with) resolves ``options`` as :meth:`~whoson.Tracker.report`
    would; the report's currency is the one the log settled.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from whoson.engines.analysis import engine_params

    params, by, previous = engine_params(probe, options)
    table = read.table
    if read.newest is not None and read.newest > params.as_of:
        as_of = pa.scalar(params.as_of, pa.timestamp("us", tz="UTC"))
        table = table.filter(pc.less_equal(table.column("ts"), as_of))
    result = report_table(table, params, engine, spark_master, by=by, previous=previous)
    return attrs.evolve(result, currency=read.currency)


def report(source: str, engine: str = "python", *, spark_master: str | None = None, **options: Any) -> Report:
    """The report of SOURCE (a log, a store URL or an exported Parquet directory).

    ``options`` are :meth:`whoson.Tracker.report`'s (``start``, ``end`` and
    the :class:`~whoson.metrics.params.ReportOptions`: ``tz``, ``as_of``,
    windows, ``cost``...; left out or ``None``, their defaults) plus the
    tracker settings ``rating_scale`` and ``currency`` for reading a log.
    Every path resolves them with :meth:`~whoson.metrics.params.ReportParams.resolve`. Every engine gives
    the same figures; see docs/scale.md for when to use which.
    """
    from whoson.cli.common import is_store_url
    from whoson.engines.parquet import is_parquet_dir, read_settings
    from whoson.tracker import Tracker

    _check(engine)
    settings = {k: options.pop(k) for k in ("currency",) if k in options}
    scale = options.get("rating_scale")
    if is_parquet_dir(source):
        saved_scale, _ = read_settings(source)
        probe = Tracker(rating_scale=saved_scale or scale or DEFAULTS.rating_scale)
        if engine != "python":
            from whoson.engines.analysis import parquet_engine_report

            con = connect(engine, spark_master)
            return parquet_engine_report(probe, con, _parquet_table(con, engine, source), options)
        from whoson.engines.parquet import read_events

        batch: list[Event] = []
        for event in read_events(source):
            batch.append(event)
            if len(batch) >= 10_000:
                probe.record_many(batch)
                batch.clear()
        probe.record_many(batch)
        return probe.report(**options)
    if scale is not None:
        settings["rating_scale"] = scale
    if engine != "python" and not is_store_url(source):
        if not os.path.exists(source):
            raise ConfigError(f"{source}: no such file")
        from whoson.engines.vectorlog import read_for_engine

        probe = Tracker(**settings)
        read = read_for_engine(source, probe.parse_context, store_text=probe.store_text)
        return log_report(read, engine, probe, options, spark_master=spark_master)
    if is_store_url(source):
        from whoson.stores.url import open_store

        # Reading never creates a store.
        tracker = Tracker(open_store(source, create=False), **settings)
    else:
        tracker = Tracker(**settings)
        if not os.path.exists(source):
            raise ConfigError(f"{source}: no such file")
        tracker.load(source)
    with tracker:
        return tracker.report(engine=engine, spark_master=spark_master, **options)
