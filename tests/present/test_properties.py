"""Properties over random event streams: frames and CSV hold the report's values; every format renders."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from hypothesis import given, settings

from tests.present.synthetic import chart_count
from tests.present.test_frames import assert_frame_equals_tree, same
from tests.strategies import Scenario, scenarios
from whoson import FixedClock, Tracker
from whoson.cli.render import render_report
from whoson.present.figures import partial_days
from whoson.present.html import report_document
from whoson.present.markdown import report_markdown
from whoson.present.tables import report_table, table_names


def tree_of(scenario: Scenario) -> dict[str, Any]:
    tracker = Tracker(clock=FixedClock(scenario.as_of), tz=scenario.tz, rating_scale=scenario.scale)
    tracker.record_many(scenario.events)
    tree: dict[str, Any] = tracker.report(**scenario.report_kwargs()).to_dict()
    return tree


class TestTablesHoldTheReport:
    """For any report, each frame and each CSV file holds exactly the values of to_dict()."""

    @settings(max_examples=25)
    @given(scenarios())
    def test_frames_and_csv(self, scenario: Scenario) -> None:
        tree = tree_of(scenario)
        for name in table_names(tree):
            assert_frame_equals_tree(tree, name)
            table = report_table(tree, name)
            if not table.rows:
                continue
            frame = pd.read_csv(io.StringIO(table.csv()), dtype=str, keep_default_na=False)
            for i, row in enumerate(table.rows):
                for column in table.columns:
                    plain, cell = row.get(column), frame[column].iloc[i]
                    if plain is None:
                        assert cell == ""
                    elif isinstance(plain, (int, float)) and not isinstance(plain, bool):
                        assert same(float(cell), plain)
                    else:
                        assert str(plain) == cell


class TestEveryFormatRenders:
    """Text, Markdown and HTML render any report: 24 hours, one partial flag per day, no markup leaks."""

    @settings(max_examples=25)
    @given(scenarios())
    def test_formats(self, scenario: Scenario) -> None:
        tree = tree_of(scenario)
        text = render_report(tree)
        hours = [line for line in text.splitlines() if line[:2].isdigit() and line[2:5] == ":00"]
        expected = 24
        assert expected == len(hours)
        assert len(partial_days(tree)) == len(tree["trends"]["daily"])
        assert "\x1b" not in text
        md = report_markdown(tree)
        assert md.startswith("# whoson report: ")
        html = report_document(tree)
        assert "<script" not in html
        assert chart_count(tree) == html.count("<svg")
