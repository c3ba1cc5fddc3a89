"""The SVG chart renderer and the matplotlib plots draw what the report says."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib
import pytest

from tests.present.synthetic import WAIT, extended
from whoson import Tracker
from whoson.present.figures import funnel_steps, partial_days
from whoson.present.svg import bars, hbars, report_charts, trend

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


@pytest.fixture(scope="module")
def tree(sim_tracker: Tracker) -> dict[str, Any]:
    return sim_tracker.report("2026-03-02", "2026-03-09").to_dict()


class TestSvg:
    """Well-formed SVG, bar lengths proportional to values, partial days dashed, labels escaped."""

    def test_every_chart_is_well_formed(self, tree: dict[str, Any]) -> None:
        charts = report_charts(tree, partial_days(tree), "EUR")
        wait = tree["support"].get("wait")
        expected = {"daily", "gmv", "conversion", "hourly", "ratings", "funnel", "agents"} | (
            {"wait"} if wait and wait["requests"] else set())
        assert expected == set(charts)
        for svg in charts.values():
            root = parse(svg)
            assert root.tag == f"{SVG}svg"
            assert root.find(f"{SVG}title") is not None

    def test_funnel_bars_are_proportional(self, tree: dict[str, Any]) -> None:
        root = parse(report_charts(tree)["funnel"])
        widths = [float(r.get("width", "0")) for r in root.iter(f"{SVG}rect")]
        values = [value for _, value in funnel_steps(tree)]
        expected = [round(v / values[0], 2) for v in values]
        assert expected == [round(w / widths[0], 2) if v else 0.0 for w, v in zip(widths, values, strict=True)]
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert f"{values[0]:,} (100.0%)" in texts

    def test_hourly_stacks_sum_per_hour(self) -> None:
        root = parse(bars(["00", "01", "02"], [("text", [2, 0, 1]), ("video", [2, 0, 0])], title="t"))
        heights = {}
        for rect in root.iter(f"{SVG}rect"):
            title = rect.find(f"{SVG}title")
            if title is not None:
                hour = title.text.split()[0]
                heights[hour] = heights.get(hour, 0.0) + float(rect.get("height", "0"))
        # The plot is 140 px tall; the axis tops at 5 (the round number above 4):
        # the 00 stack (4) is 4/5 of it, the 02 bar (1) a fifth.
        expected = {"00": 112.0, "02": 28.0}
        assert expected == {k: round(v, 1) for k, v in heights.items()}

    def test_partial_day_is_dashed_and_hollow(self) -> None:
        svg = trend(["03-01", "03-02", "03-03"], [("n", [4, 5, 1])], title="t", partial=[False, False, True])
        lines = re.findall(r"<line [^>]*stroke='#2f6fb0'[^>]*>", svg)
        expected = [False, True]
        assert expected == ["stroke-dasharray" in line for line in lines]
        assert "(partial day)" in svg

    def test_labels_are_escaped(self) -> None:
        svg = hbars(["<script>x</script>", "a&b"], [1, 2], title="T \x1b[31m")
        root = parse(svg)
        texts = [t.text for t in root.iter(f"{SVG}text")]
        assert "<script>x</script>" in texts  # as text, not as an element
        assert root.find(f".//{SVG}script") is None
        assert "\x1b" not in svg


class TestPlots:
    """report.plot draws each figure into the given Axes, with the report's numbers."""

    @pytest.mark.parametrize("name", ["daily", "hourly", "agents", "ratings", "funnel"])
    def test_draws_into_the_given_axes(self, sim_tracker: Tracker, name: str) -> None:
        report = sim_tracker.report("2026-03-02", "2026-03-09")
        figure, ax = plt.subplots()
        try:
            assert report.plot(name, ax=ax) is ax
            assert ax.get_title()
        finally:
            plt.close(figure)

    def test_ratings_bars_are_the_distribution(self, sim_tracker: Tracker) -> None:
        report = sim_tracker.report("2026-03-02", "2026-03-09")
        ax = report.plot("ratings")
        try:
            expected = list(report.ratings.distribution.values())
            assert expected == [round(p.get_height()) for p in ax.patches]
        finally:
            plt.close(ax.figure)

    def test_daily_lines_hold_the_daily_counts(self, sim_tracker: Tracker) -> None:
        report = sim_tracker.report("2026-03-02", "2026-03-09")
        ax = report.plot("daily")
        try:
            visitors = [row.visitors for row in report.trends.daily]
            partial = partial_days(report.to_dict())
            # The clock stops on the evening of 03-08: that day is partial, drawn apart (hollow, dotted).
            expected = [False] * 6 + [True]
            assert expected == partial
            solid, dotted = ax.get_lines()[:2]
            assert solid.get_label() == "visitors"
            assert visitors[:6] == [int(y) for y in solid.get_ydata()[:6]]
            assert math.isnan(solid.get_ydata()[6])
            assert visitors == [int(y) for y in dotted.get_ydata()]
        finally:
            plt.close(ax.figure)

    def test_unknown_plot(self, sim_tracker: Tracker) -> None:
        with pytest.raises(ValueError, match="plot 'pie': no such plot"):
            sim_tracker.report().plot("pie")


class TestWaitChart:
    """support.wait (experiments.md) draws the answered and abandoned curves at 15..300 s."""

    def test_curves(self, tree: dict[str, Any]) -> None:
        with_wait = extended(tree)
        root = parse(report_charts(with_wait)["wait"])
        points = [c.find(f"{SVG}title").text for c in root.iter(f"{SVG}circle")]  # type: ignore[union-attr]
        expected = [f"answered {t} s: {v * 100:.1f}%" for t, v in WAIT["answered_within"].items()]
        assert expected == points[:5]
        without = {**tree, "support": {k: v for k, v in tree["support"].items() if k != "wait"}}
        assert "wait" not in report_charts(without)


class TestAxisLabels:
    """Axis ticks of large amounts read with a k/M/B/T suffix, never in exponent notation."""

    @pytest.mark.parametrize(("peak", "expected"), [
        (4_000.0, ["0", "1k", "2k", "3k", "4k", "5k"]),
        (2_400_000.0, ["0", "500k", "1M", "1.5M", "2M", "2.5M"]),
        (9e14, ["0", "200T", "400T", "600T", "800T", "1000T"]),
    ])
    def test_ticks(self, peak: float, expected: list[str]) -> None:
        root = parse(trend(["a", "b"], [("gmv", [0.5, peak])], title="t"))
        texts = [t.text or "" for t in root.iter(f"{SVG}text")]
        # title, legend, the y axis bottom to top, then the two day labels
        assert ["t", "gmv", *expected, "a", "b"] == texts
