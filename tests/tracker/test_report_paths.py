"""Report options resolve in one place, and the Reporter picks the ledger, the projection or a replay."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import attrs
import pytest

from whoson import ConfigError, FixedClock, Tracker
from whoson.cli.report import add_parser, report_options
from whoson.metrics.params import DEFAULTS, ReportDefaults, ReportParams
from whoson.metrics.report import build_report

NOW = datetime(2026, 3, 9, tzinfo=UTC)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def clicks(tracker: Tracker, count: int) -> None:
    """``count`` visitors, one widget click each, a minute apart from START."""
    tracker.record_many([
        {"id": f"c{n}", "type": "widget_click", "ts": (START + timedelta(minutes=n)).isoformat(),
         "visitor": f"v{n}"} for n in range(count)
    ])


def cli_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return parser.parse_args(["report", "log.jsonl", *argv])


class TestResolve:
    """ReportParams.resolve is the one path from caller options to checked parameters."""

    def test_left_out_and_none_take_the_defaults(self) -> None:
        """An option left out and one given as None both take the default of ReportDefaults."""
        expected = ReportParams(as_of=NOW)
        assert expected == ReportParams.resolve(now=lambda: NOW)
        assert expected == ReportParams.resolve(now=lambda: NOW, tz=None, attribution_window=None,
                                                fcr_window=None, cost=None)

    def test_defaults_are_the_params_defaults(self) -> None:
        """The fields of ReportParams default to the one table of defaults."""
        params = ReportParams(as_of=NOW)
        actual = ReportDefaults(params.tz_name, params.attribution_window, params.response_timeout,
                                params.fcr_window, params.session_timeout, params.rating_scale)
        assert DEFAULTS == actual

    def test_given_options_are_parsed(self) -> None:
        """Text durations, dates in the zone and a cost are read into typed values."""
        params = ReportParams.resolve("2026-03-01", None, now=lambda: NOW, tz="Europe/Berlin",
                                      response_timeout="2m", cost="1250.50")
        expected = (datetime(2026, 2, 28, 23, tzinfo=UTC), timedelta(minutes=2), Decimal("1250.50"))
        assert expected == (params.start, params.response_timeout, params.cost)

    def test_clock_is_read_only_without_as_of(self) -> None:
        """``now`` is not called when as_of is given."""
        def fail() -> datetime:
            raise AssertionError("the clock was read")

        assert NOW == ReportParams.resolve(now=fail, as_of=NOW).as_of

    def test_unknown_option_is_a_type_error(self) -> None:
        """A misspelt option is refused, as a misspelt keyword of a function would be."""
        with pytest.raises(TypeError, match="attribution_windw"):
            ReportParams.resolve(now=lambda: NOW, attribution_windw="3d")  # type: ignore[call-arg]

    def test_other_rating_scale_is_refused(self) -> None:
        """Asking for a rating scale other than the defaults' is an error."""
        with pytest.raises(ConfigError, match="rating scale"):
            ReportParams.resolve(now=lambda: NOW, rating_scale="0..10")

    def test_tracker_defaults_replace_the_library_ones(self) -> None:
        """A tracker's zone and session timeout are its reports' defaults."""
        tracker = Tracker(clock=FixedClock(NOW), tz="Asia/Tokyo", session_timeout="10m")
        params = tracker.report_params()
        expected = ReportParams.resolve(
            now=lambda: NOW, defaults=attrs.evolve(DEFAULTS, tz_name="Asia/Tokyo",
                                                   session_timeout=timedelta(minutes=10)))
        assert expected == params

    def test_cli_passes_only_what_was_given(self) -> None:
        """The command line leaves out what the user left out, so the library's defaults apply."""
        assert {} == report_options(cli_args())
        expected = {"tz": "Asia/Kolkata", "fcr_window": "12h", "cost": "1000"}
        assert expected == report_options(cli_args("--tz", "Asia/Kolkata", "--fcr-window", "12h",
                                                   "--cost", "1000"))

    def test_cli_defaults_match_the_library(self) -> None:
        """The command line's parameters without options equal the library's defaults."""
        tracker = Tracker(clock=FixedClock(NOW))
        assert tracker.report_params(as_of=NOW) == tracker.report_params(as_of=NOW, **report_options(cli_args()))


class TestReporterPath:
    """The Reporter reads the ledger when it can, recomputes or replays when it must."""

    def test_default_options_read_the_ledger(self) -> None:
        """With the tracker's windows and nothing after as_of, the ledger serves the report."""
        tracker = Tracker(clock=FixedClock(NOW))
        clicks(tracker, 3)
        assert "ledger" == tracker._reporter.path(tracker.report_params())

    def test_other_window_reads_a_ledger_of_its_own(self) -> None:
        """Another attribution window reads a spare ledger kept with that window."""
        tracker = Tracker(clock=FixedClock(NOW))
        clicks(tracker, 3)
        assert "settings" == tracker._reporter.path(tracker.report_params(attribution_window="3d"))

    def test_past_as_of_turns_the_ledger_back(self) -> None:
        """An as_of before the newest event turns the ledger back (a breakdown replays): later events do not count."""
        tracker = Tracker(clock=FixedClock(NOW))
        clicks(tracker, 3)
        as_of = START + timedelta(minutes=1)
        assert "past" == tracker._reporter.path(tracker.report_params(as_of=as_of))
        assert "replay" == tracker._reporter.path(tracker.report_params(as_of=as_of), by="channel")
        assert 2 == tracker.report(as_of=as_of).visitors.with_click

    def test_every_path_gives_the_same_figures(self) -> None:
        """The ledger's report equals the one computed from scratch on the same projection."""
        tracker = Tracker(clock=FixedClock(NOW))
        clicks(tracker, 5)
        params = tracker.report_params("2026-03-02", "2026-03-03")
        from_scratch = build_report(tracker.projection, params)
        assert from_scratch.to_dict() == tracker.report("2026-03-02", "2026-03-03").to_dict()

    def test_an_unknown_dimension_is_refused_before_any_engine_runs(self) -> None:
        """A breakdown by an unknown dimension is refused whatever the engine."""
        tracker = Tracker(clock=FixedClock(NOW))
        with pytest.raises(ConfigError, match="colour"):
            tracker.report(engine="duckdb", by="colour")

    def test_engines_give_the_python_breakdown_and_comparison(self) -> None:
        """The duckdb engine's breakdown and comparison equal the python engine's."""
        pytest.importorskip("ibis")
        tracker = Tracker(clock=FixedClock(NOW))
        clicks(tracker, 5)
        options = {"by": "country", "compare": "previous", "start": "2026-03-02", "end": "2026-03-03"}
        expected = tracker.report(**options).to_dict()
        assert expected == tracker.report(engine="duckdb", **options).to_dict()
