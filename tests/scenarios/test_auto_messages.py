"""Hand-derived scenarios for the ``auto_messages`` section.

Reading: ``shown`` and ``clicks`` count events (a visitor clicking twice is two
clicks), like the other additive counts.
Reading: ties in ``top_triggers`` go by trigger ascending, and in
``top_links`` by trigger then link ascending (as ``top_urls`` ties go by url).
Reading: ``top_links`` groups the clicks that carry a ``link`` by
(trigger, link). The scenarios keep every click's link equal to the link of
the message it clicks, so reading the link from the message gives the same.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.scenarios.helpers import Events, report

AS_OF = "2026-03-03T00:00:00Z"


class TestAutoMessages:
    """Shown and clicked automatic messages, by trigger and by link."""

    def events(self) -> list[dict[str, object]]:
        """Four triggers on 2026-03-02, plus one message and click the day before."""
        ev = Events()
        return [
            # exit-intent carries /sale: shown 3x, clicked 2x (on its link).
            ev.auto_message("v1", "2026-03-02T10:00:00Z", "exit-intent", "/sale"),
            ev.auto_message("v2", "2026-03-02T10:01:00Z", "exit-intent", "/sale"),
            ev.auto_message("v3", "2026-03-02T10:02:00Z", "exit-intent", "/sale"),
            ev.auto_click("v1", "2026-03-02T10:03:00Z", "exit-intent", "/sale"),
            ev.auto_click("v2", "2026-03-02T10:04:00Z", "exit-intent", "/sale"),
            # cart-help has no link: shown 2x, clicked 2x.
            ev.auto_message("v4", "2026-03-02T11:00:00Z", "cart-help"),
            ev.auto_message("v5", "2026-03-02T11:01:00Z", "cart-help"),
            ev.auto_click("v4", "2026-03-02T11:02:00Z", "cart-help"),
            ev.auto_click("v5", "2026-03-02T11:03:00Z", "cart-help"),
            # welcome carries /new: shown 1x, clicked 1x.
            ev.auto_message("v6", "2026-03-02T12:00:00Z", "welcome", "/new"),
            ev.auto_click("v6", "2026-03-02T12:01:00Z", "welcome", "/new"),
            # pricing, no link: shown 1x, the same visitor clicks 3x.
            ev.auto_message("v7", "2026-03-02T13:00:00Z", "pricing"),
            ev.auto_click("v7", "2026-03-02T13:01:00Z", "pricing"),
            ev.auto_click("v7", "2026-03-02T13:02:00Z", "pricing"),
            ev.auto_click("v7", "2026-03-02T13:03:00Z", "pricing"),
            # the day before the range: neither shown nor clicked in range.
            ev.auto_message("v8", "2026-03-01T13:00:00Z", "welcome", "/new"),
            ev.auto_click("v8", "2026-03-01T13:01:00Z", "welcome", "/new"),
        ]

    def test_counts_and_tops(self) -> None:
        """Shown 7, clicks 8; tops sorted by clicks, ties by name."""
        d = report(self.events(), as_of=AS_OF, start=datetime(2026, 3, 2, tzinfo=UTC))
        expected = {
            "shown": 7,  # exit-intent 3 + cart-help 2 + welcome 1 + pricing 1
            "clicks": 8,  # 2 + 2 + 1 + 3
            "top_triggers": [
                {"trigger": "pricing", "clicks": 3},
                {"trigger": "cart-help", "clicks": 2},  # tie with exit-intent: name ascending
                {"trigger": "exit-intent", "clicks": 2},
                {"trigger": "welcome", "clicks": 1},  # the 03-01 click is out of range
            ],
            "top_links": [  # only clicks on messages carrying a link
                {"trigger": "exit-intent", "link": "/sale", "clicks": 2},
                {"trigger": "welcome", "link": "/new", "clicks": 1},
            ],
        }
        assert expected == d["auto_messages"]

    def test_at_most_ten(self) -> None:
        """Twelve linked triggers: t12 (5 clicks) first, then t01..t09 (1 click each)."""
        ev = Events()
        events = []
        for n in range(1, 13):
            trigger, link = f"t{n:02d}", f"/l{n:02d}"
            events.append(ev.auto_message(f"v{n}", "2026-03-02T10:00:00Z", trigger, link))
            for _ in range(5 if n == 12 else 1):
                events.append(ev.auto_click(f"v{n}", "2026-03-02T10:01:00Z", trigger, link))
        d = report(events, as_of=AS_OF)
        triggers = ["t12"] + [f"t{n:02d}" for n in range(1, 10)]  # t10, t11 cut at ten
        expected_triggers = [{"trigger": t, "clicks": 5 if t == "t12" else 1} for t in triggers]
        expected_links = [
            {"trigger": t, "link": "/l" + t[1:], "clicks": 5 if t == "t12" else 1}
            for t in triggers
        ]
        assert expected_triggers == d["auto_messages"]["top_triggers"]
        assert expected_links == d["auto_messages"]["top_links"]
        expected_counts = (12, 16)  # shown 12; clicks 5 + 11
        assert expected_counts == (d["auto_messages"]["shown"], d["auto_messages"]["clicks"])
