"""The dashboard page module, on a small Starlette app built here (the web app mounts the same routes)."""

from __future__ import annotations

import re
import sys
import types
import warnings
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from tests.present.synthetic import KEY_FIGURES, compared, numeric_leaves
from whoson import Tracker
from whoson.present.tables import report_table, table_names
from whoson.web.dashboard import routes

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def allow(request: Request) -> str:
    return "ann"


async def deny(request: Request) -> None:
    return None


def site(tracker: Any, hook: Any = allow) -> Starlette:
    """The whoson app's shape: routes under /whoson, the tracker at app.state.whoson.tracker."""
    inner = Starlette(routes=routes(hook))
    inner.state.whoson = types.SimpleNamespace(tracker=tracker)
    return Starlette(routes=[Mount("/whoson", inner)])


@pytest.fixture
def client(sim_tracker: Tracker) -> Iterator[TestClient]:
    with TestClient(site(sim_tracker)) as test_client:
        yield test_client


def heading(html: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", html)
    assert match is not None
    return match.group(1)


class ComparingTracker:
    """A tracker whose report takes compare="previous" (as the engine branch adds), shaped per analysis.md."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker, self.clock, self.tz, self.currency = tracker, tracker.clock, tracker.tz, tracker.currency
        self.calls: list[Any] = []

    def report(self, start: date, end: date, *, tz: str, as_of: Any, compare: str | None = None) -> Any:
        self.calls.append(compare)
        current = self.tracker.report(start, end, tz=tz, as_of=as_of)
        if compare != "previous":
            return current
        days = (end - start).days
        previous = self.tracker.report(start - timedelta(days=days), start, tz=tz, as_of=as_of)
        return types.SimpleNamespace(to_dict=lambda: compared(current.to_dict(), previous.to_dict()))


class TestPage:
    """GET /dashboard: the report of the chosen local days, pickers that round-trip, no script."""

    def test_default_is_the_last_7_local_days(self, client: TestClient) -> None:
        # The clock reads 2026-03-08 20:00 UTC = 21:00 in Berlin, the tracker's zone.
        response = client.get("/whoson/dashboard")
        expected = (200, "2026-03-02 .. 2026-03-08 (7 days)")
        assert expected == (response.status_code, heading(response.text))
        assert "Europe/Berlin, as of 2026-03-08 21:00" in response.text
        assert "name=compare value=previous checked" in response.text
        assert "<script" not in response.text

    def test_pickers_choose_range_and_zone(self, client: TestClient) -> None:
        response = client.get("/whoson/dashboard", params={"start": "2026-03-03", "end": "2026-03-04", "tz": "UTC"})
        expected = (200, "2026-03-03 .. 2026-03-04 (2 days)")
        assert expected == (response.status_code, heading(response.text))
        assert "value='2026-03-03'" in response.text
        assert "value='UTC'" in response.text
        assert "name=compare value=previous checked" not in response.text  # a submitted form left it off

    def test_same_figures_as_the_library(self, client: TestClient, sim_tracker: Tracker) -> None:
        response = client.get("/whoson/dashboard", params={"start": "2026-03-03", "end": "2026-03-04", "tz": "UTC"})
        report = sim_tracker.report("2026-03-03", "2026-03-05", tz="UTC")
        visitors = re.search(r"<div class=label>Visitors</div><div class=value>([\d,]+)</div>", response.text)
        assert visitors is not None
        assert f"{report.visitors.total:,}" == visitors.group(1)

    @pytest.mark.parametrize(("params", "message"), [
        ({"start": "03/02/2026"}, "start &#x27;03/02/2026&#x27; is not a date like 2026-03-09"),
        ({"tz": "Mars/Olympus"}, "Mars/Olympus"),
        ({"start": "2026-03-08", "end": "2026-03-01"}, "start 2026-03-08 is after end 2026-03-01"),
    ])
    def test_bad_input_is_a_400_with_the_page(self, client: TestClient, params: dict[str, str],
                                              message: str) -> None:
        response = client.get("/whoson/dashboard", params=params)
        assert response.status_code == 400
        assert message in response.text
        assert "<form class=pickers" in response.text

    def test_comparison_with_the_previous_period(self, sim_tracker: Tracker) -> None:
        tracker = ComparingTracker(sim_tracker)
        with TestClient(site(tracker)) as test_client:
            response = test_client.get("/whoson/dashboard", params={
                "start": "2026-03-06", "end": "2026-03-07", "tz": "UTC", "compare": "previous"})
        assert tracker.calls == ["previous"]
        assert "compared with 2026-03-04 .. 2026-03-05 (2 days)" in response.text
        notes = re.findall(r"<div class=kpi><div class=label>([^<]+)</div><div class=value>[^<]*</div>"
                           r"<div class='change[^']*'>([^<]+)</div>", response.text)
        # A key figure that is null now (e.g. CSAT without ratings) has nothing to compare.
        current = sim_tracker.report("2026-03-06", "2026-03-08", tz="UTC").to_dict()
        expected_count = sum(1 for key in KEY_FIGURES if numeric_leaves(current)[key] is not None)
        assert expected_count == len(notes)
        now = sim_tracker.report("2026-03-06", "2026-03-08", tz="UTC").visitors.total
        before = sim_tracker.report("2026-03-04", "2026-03-06", tz="UTC").visitors.total
        expected = ("Visitors", f"{now - before:+d} ({(now / before - 1) * 100:+.1f}%) vs previous")
        assert expected == notes[0]

    def test_refused_without_authorization(self, sim_tracker: Tracker) -> None:
        with TestClient(site(sim_tracker, deny)) as test_client:
            page = test_client.get("/whoson/dashboard")
            csv = test_client.get("/whoson/dashboard/daily.csv")
        expected = (401, 401)
        assert expected == (page.status_code, csv.status_code)
        assert "log in" in page.text


class TestCsv:
    """GET /dashboard/{table}.csv: the table of the same range, as a download."""

    def test_links_for_every_table(self, client: TestClient, sim_tracker: Tracker) -> None:
        html = client.get("/whoson/dashboard", params={"start": "2026-03-03", "end": "2026-03-04", "tz": "UTC"}).text
        links = re.findall(r"href='dashboard/(\w+)\.csv\?([^']*)'", html)
        expected = table_names(sim_tracker.report("2026-03-03", "2026-03-05", tz="UTC").to_dict())
        assert expected == [name for name, _ in links]
        assert links[0][1] == "start=2026-03-03&amp;end=2026-03-04&amp;tz=UTC"

    def test_download_equals_the_report_table(self, client: TestClient, sim_tracker: Tracker) -> None:
        response = client.get("/whoson/dashboard/daily.csv",
                              params={"start": "2026-03-03", "end": "2026-03-04", "tz": "UTC"})
        tree = sim_tracker.report("2026-03-03", "2026-03-05", tz="UTC").to_dict()
        expected = (200, "text/csv; charset=utf-8", 'attachment; filename="whoson-daily-2026-03-03-2026-03-04.csv"',
                    report_table(tree, "daily").csv())
        assert expected == (response.status_code, response.headers["content-type"],
                            response.headers["content-disposition"], response.text)

    @pytest.mark.parametrize("name", ["weekly", "breakdown"])
    def test_unknown_or_absent_table(self, client: TestClient, name: str) -> None:
        assert client.get(f"/whoson/dashboard/{name}.csv").status_code == 404


class TestBreakdownPicker:
    """Where the engine offers breakdowns, the page offers a dimension and shows its table."""

    def test_picker_and_table(self, sim_tracker: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:
        engine = types.ModuleType("whoson.metrics.breakdowns")
        engine.DIMENSIONS = ("country", "device")  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "whoson.metrics.breakdowns", engine)
        rows = [{"value": "DE", "visitors": 3, "with_impression": 2, "with_click": 1, "widget_ctr": 0.5,
                 "requests": 1, "conversations": 1, "visitor_request_rate": 1.0, "attributed_orders": 0,
                 "attributed_gmv": 0, "conversion_rate": 0.0}]
        asked: list[str | None] = []

        class Breaking(ComparingTracker):
            def report(self, start: date, end: date, *, tz: str, as_of: Any, compare: str | None = None,
                       by: str | None = None) -> Any:
                asked.append(by)
                tree = super().report(start, end, tz=tz, as_of=as_of, compare=compare).to_dict()
                return types.SimpleNamespace(to_dict=lambda: {**tree, "breakdown": rows})

        with TestClient(site(Breaking(sim_tracker))) as test_client:
            page = test_client.get("/whoson/dashboard", params={"start": "2026-03-03", "end": "2026-03-04",
                                                               "by": "country"})
            bad = test_client.get("/whoson/dashboard", params={"by": "planet"})
        assert asked[0] == "country"
        assert "<option value='country' selected>country</option>" in page.text
        assert "<h2>Breakdown by country</h2>" in page.text
        link = ("href='dashboard/breakdown.csv?start=2026-03-03&amp;end=2026-03-04&amp;tz=Europe%2FBerlin"
                "&amp;by=country'")
        assert link in page.text
        expected = (400, True)
        assert expected == (bad.status_code, "by &#x27;planet&#x27;: not a breakdown dimension" in bad.text)
