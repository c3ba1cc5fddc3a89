"""The HTML report and the dashboard in a real Chromium, used as a person would (screenshots in test-artifacts/)."""

from __future__ import annotations

import re
import socket
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from tests.present.conftest import artifact
from tests.present.synthetic import KEY_FIGURES, chart_count, compared, extended, numeric_leaves
from whoson import Tracker
from whoson.cli.main import main
from whoson.present.html import report_document
from whoson.web.dashboard import routes


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def served(sim_tracker: Tracker) -> Iterator[str]:
    """The dashboard on a real server (uvicorn, 127.0.0.1, a free port)."""
    import uvicorn

    inner = Starlette(routes=routes(lambda request: "ann"))
    inner.state.whoson = types.SimpleNamespace(tracker=sim_tracker)
    app = Starlette(routes=[Mount("/whoson", inner)])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/whoson"
    server.should_exit = True
    thread.join(timeout=10)


class TestReportFile:
    """The --format html file opens offline, draws its charts, and prints on A4."""

    @pytest.mark.timeout(60)
    def test_opens_without_network_and_draws(self, sim_log: Path, sim_tracker: Tracker, tmp_path: Path,
                                             page: Any) -> None:
        target = tmp_path / "report.html"
        assert main(["report", str(sim_log), "--start", "2026-03-02", "--end", "2026-03-09", "--tz",
                     "Europe/Berlin", "--format", "html", "-o", str(target)]) == 0
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(target.as_uri())
        page.screenshot(path=str(artifact("report.png")), full_page=True)
        assert requests == [target.as_uri()]  # nothing fetched besides the file itself
        assert page.locator("h1").inner_text() == "2026-03-02 .. 2026-03-08 (7 days)"
        charts = page.locator(".chart svg")
        expected = chart_count(sim_tracker.report("2026-03-02", "2026-03-09", tz="Europe/Berlin").to_dict())
        assert expected == charts.count()
        for i in range(expected):
            box = charts.nth(i).bounding_box()
            assert box is not None
            assert box["width"] > 300
            assert box["height"] > 100
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert 1 <= pages <= 6  # a week's report prints as a short document, not a chart per page

    @pytest.mark.timeout(60)
    def test_with_comparison_and_new_sections(self, sim_tracker: Tracker, tmp_path: Path, page: Any) -> None:
        current = sim_tracker.report("2026-03-05", "2026-03-08").to_dict()
        previous = sim_tracker.report("2026-03-02", "2026-03-05").to_dict()
        target = tmp_path / "compared.html"
        target.write_text(report_document(extended(compared(current, previous)), "EUR"))
        page.goto(target.as_uri())
        page.screenshot(path=str(artifact("report-compared.png")), full_page=True)
        notes = page.locator(".kpi .change")
        expected = sum(1 for key in KEY_FIGURES if numeric_leaves(current)[key] is not None)
        assert expected == notes.count()
        assert page.get_by_role("heading", name="Breakdown").count() == 1
        assert page.get_by_role("heading", name="Experiments (invited vs held out)").count() == 1

    @pytest.mark.timeout(60)
    def test_figures_stay_in_their_column(self, sim_tracker: Tracker, tmp_path: Path, page: Any) -> None:
        """Compared figures (long change notes) never spill over the neighbouring section."""
        current = sim_tracker.report("2026-03-05", "2026-03-08").to_dict()
        previous = sim_tracker.report("2026-03-02", "2026-03-05").to_dict()
        target = tmp_path / "compared.html"
        target.write_text(report_document(compared(current, previous), "EUR"))
        spilled = """() => [...document.querySelectorAll('.figures section')]
            .filter(s => s.querySelector('table').getBoundingClientRect().width
                         > s.getBoundingClientRect().width + 1)
            .map(s => s.querySelector('h3').innerText)"""
        for width in (1200, 820):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(target.as_uri())
            assert [] == page.evaluate(spilled)


class TestDashboardInBrowser:
    """A manager picks dates, shows them, and downloads a table, without JavaScript."""

    @pytest.mark.timeout(60)
    def test_pick_show_download(self, served: str, chromium: Any) -> None:
        context = chromium.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True,
                                       java_script_enabled=False)
        page = context.new_page()
        try:
            page.goto(f"{served}/dashboard")
            assert page.locator("h1").inner_text() == "2026-03-02 .. 2026-03-08 (7 days)"
            page.get_by_label("From").fill("2026-03-04")
            page.get_by_label("To (included)").fill("2026-03-05")
            page.get_by_label("Time zone").fill("UTC")
            page.get_by_role("button", name="Show").click()
            page.wait_for_url("**/dashboard?start=2026-03-04*")
            assert page.locator("h1").inner_text() == "2026-03-04 .. 2026-03-05 (2 days)"
            assert "UTC, as of" in page.locator(".sub").inner_text()
            page.screenshot(path=str(artifact("dashboard.png")), full_page=True)
            with page.expect_download() as info:
                page.get_by_role("link", name="daily.csv", exact=True).click()
            download = info.value
            assert download.suggested_filename == "whoson-daily-2026-03-04-2026-03-05.csv"
            lines = Path(download.path()).read_text().splitlines()
            expected = ["date", "2026-03-04", "2026-03-05"]
            assert expected == [line.split(",")[0] for line in lines]
        finally:
            context.close()
