"""The spark engine (local[2]) gives the python engine's report, from the same definition.

Needs Java 17 and pyspark: skipped locally when missing, a failure under CI=true
(.ci/run installs Java). One Spark session for the module; one report, since
starting the JVM and planning each query costs seconds on two cores.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.report_checks import assert_reports_equal
from whoson import simulate
from whoson.engines import connect, report
from whoson.engines.parquet import export
from whoson.logfile import write_log

_MISSING = [
    what for what, ok in (
        ("java", shutil.which("java") is not None),
        ("pyspark", importlib.util.find_spec("pyspark") is not None),
        ("ibis", importlib.util.find_spec("ibis") is not None),
    ) if not ok
]
if _MISSING and os.environ.get("CI"):
    pytest.fail(f"CI must run the spark engine tests, but {', '.join(_MISSING)} is missing",
                pytrace=False)
pytestmark = [
    pytest.mark.skipif(bool(_MISSING), reason=f"spark engine needs {', '.join(_MISSING)}"),
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] session for the module, tuned for tiny data, stopped at the end.

    Whole-stage code generation and adaptive planning cost more than they
    save on a few thousand rows (the test takes half the time without them);
    ``connect`` then reuses this session.
    """
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.codegen.wholeStage", "false")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:+UseSerialGC -XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    yield connect("spark", "local[2]")
    session.stop()


class TestSparkEngine:
    """Spark on a Parquet export: the same JSON tree as python on the log."""

    def test_same_report_on_a_dst_weekend(self, spark: Any, tmp_path: Path) -> None:
        """Berlin falls back on 2026-10-25: a 25-hour day, a sub-range, an earlier as_of, a cost,
        and a breakdown by referrer (host names read in Python, joined back as a small table).

        One report keeps the Spark part of the suite short; a comparison is two runs of the
        same definition (covered on duckdb in test_analysis.py).
        """
        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=40, days=3, seed=11, start=date(2026, 10, 24)))
        export(str(log), str(tmp_path / "pq"))
        kwargs: dict[str, Any] = {
            "tz": "Europe/Berlin", "start": "2026-10-25", "as_of": "2026-10-26T18:00:00Z",
            "attribution_window": "2d", "cost": "300.00", "by": "referrer",
        }
        expected = report(str(log), "python", **kwargs).to_dict()
        actual = report(str(tmp_path / "pq"), "spark", spark_master="local[2]", **kwargs).to_dict()
        assert expected["requests"]["total"] > 0
        assert len(expected["breakdown"]) > 1
        assert_reports_equal(actual, expected)


    def test_log_on_the_command_line(self, spark: Any, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        """``whoson report LOG --engine spark`` prints the python engine's JSON and skipped lines.

        The log (with a bad line and a duplicate) is read by DuckDB with the ingest rules and
        handed to Spark as Parquet; the running session is reused.
        """
        import json

        from whoson.cli.main import main

        log = tmp_path / "shop.jsonl"
        write_log(log, simulate(visitors=15, days=2, seed=3))
        first = log.read_text(encoding="utf-8").splitlines()[0]
        with open(log, "a", encoding="utf-8") as out:
            out.write(first + "\nnot json\n")
        outputs = []
        for engine in ("python", "spark"):
            status = main(["report", str(log), "--json", "--engine", engine, "--tz", "America/New_York"])
            captured = capsys.readouterr()
            outputs.append((status, json.loads(captured.out), captured.err))
        (py_status, py_json, py_err), (sp_status, sp_json, sp_err) = outputs
        assert (1, py_err) == (sp_status, sp_err)
        assert 1 == py_status
        assert_reports_equal(sp_json, py_json)
