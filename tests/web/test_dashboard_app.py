"""The dashboard served by the whoson app itself, behind the agents' authentication."""

from __future__ import annotations

import httpx

from tests.web.conftest import LiveServer

ANN = {"authorization": "Bearer ann-token"}


class TestDashboardInTheApp:
    """`{prefix}/dashboard` is part of the mounted app and asks for an agent."""

    def test_refused_without_an_agent(self, make_server) -> None:  # type: ignore[no-untyped-def]
        """No token: 401 and a pointer to the login page, no figures."""
        server: LiveServer = make_server(agents={"ann": "ann-token"})
        reply = httpx.get(server.base + "/dashboard", timeout=10)
        assert (401, True) == (reply.status_code, "log in" in reply.text)
        assert 401 == httpx.get(server.base + "/dashboard/daily.csv", timeout=10).status_code

    def test_agent_sees_the_collected_visitor(self, make_server) -> None:  # type: ignore[no-untyped-def]
        """A page view recorded through the app shows in the dashboard's report and CSV."""
        server: LiveServer = make_server(agents={"ann": "ann-token"})
        server.tracker.record({"id": "pv1", "type": "page_view", "ts": server.tracker.clock.now().isoformat(),
                               "visitor": "v-dash", "url": "/pricing"})
        page = httpx.get(server.base + "/dashboard", headers=ANN, timeout=30)
        assert 200 == page.status_code
        assert "<svg" in page.text
        assert "<script" not in page.text
        csv = httpx.get(server.base + "/dashboard/daily.csv", headers=ANN, timeout=30)
        assert 200 == csv.status_code
        rows = [line.split(",") for line in csv.text.splitlines()]
        visitors = rows[0].index("visitors")
        # The last day of the default range is today: the one visitor is there.
        assert "1" == rows[-1][visitors]
