"""A web backend's view of "who's on": feed events, run rules, show the live list.

Run with:  .venv/bin/python examples/live_backend.py

A real backend receives these events from its page tag and chat widget; here a
scripted minute-by-minute story stands in for them, and a FixedClock stands in
for the wall clock so the output is the same on every run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from whoson import FixedClock
from whoson.core.events import AutoMessageEvent, Event
from whoson.core.parsing import parse_event
from whoson.core.time import format_ts
from whoson.live import LiveConfig, LiveView, format_duration
from whoson.rules import RuleEngine, load_rules

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

# (seconds after START, event fields): what the site's visitors do.
STORY: list[tuple[int, dict[str, Any]]] = [
    (0, {"type": "agent_status", "agent": "ann", "status": "online", "name": "Ann"}),
    (5, {"type": "page_view", "visitor": "v-ana", "url": "/", "country": "DE",
         "referrer": "https://search.example/?q=boots", "device": "desktop"}),
    (12, {"type": "page_view", "visitor": "v-ben", "url": "/pricing", "country": "NL"}),
    (20, {"type": "page_view", "visitor": "v-ana", "url": "/product/trail-boot"}),
    (45, {"type": "cart_update", "visitor": "v-ana", "value": "129.00"}),
    (50, {"type": "page_view", "visitor": "v-ana", "url": "/cart"}),
    (70, {"type": "page_view", "visitor": "v-ana", "url": "/checkout"}),
    (75, {"type": "page_view", "visitor": "v-cem", "url": "/help/returns"}),
    (80, {"type": "request", "visitor": "v-cem", "request": "r-cem", "channel": "text",
          "initiator": "visitor"}),
    (95, {"type": "message", "visitor": "v-cem", "request": "r-cem", "sender": "agent",
          "agent": "ann", "chars": 42}),
    (100, {"type": "heartbeat", "visitor": "v-ben", "url": "/pricing"}),
    (110, {"type": "heartbeat", "visitor": "v-ana", "url": "/checkout"}),
    (130, {"type": "page_view", "visitor": "v-dan", "url": "/help/shipping"}),
    (140, {"type": "heartbeat", "visitor": "v-ben", "url": "/pricing"}),
    (150, {"type": "heartbeat", "visitor": "v-ana", "url": "/checkout"}),
    (150, {"type": "request", "visitor": "v-dan", "request": "r-dan", "channel": "text",
           "initiator": "visitor"}),
    (160, {"type": "message", "visitor": "v-cem", "request": "r-cem", "sender": "visitor"}),
]


class Backend:
    """What a web app keeps per process: the live view, the rules, and a clock."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.live = LiveView(LiveConfig(lingering_by_url=(("/pricing*", 90),)))
        rules = load_rules(Path(__file__).with_name("rules.toml"))
        self.engine = RuleEngine(rules, self.live)
        self.count = 0

    def receive(self, fields: dict[str, Any]) -> None:
        """An event from the page tag or the widget, stamped now."""
        self.count += 1
        event = parse_event({"id": f"ev-{self.count}", "ts": format_ts(self.clock.now()),
                             **fields})
        self.record(event)

    def record(self, event: Event) -> None:
        # A real backend appends the event to its store first (Tracker.record does).
        self.live.apply(event)
        for fired in self.engine.on_event(event, self.clock.now()):
            self.announce(fired)
            self.record(fired)

    def tick(self) -> None:
        """Called by a timer: fires the time-based rules that are due."""
        for fired in self.engine.tick(self.clock.now()):
            self.announce(fired)
            self.record(fired)

    def announce(self, event: Event) -> None:
        if isinstance(event, AutoMessageEvent):
            at = format_duration((event.ts - START).total_seconds())
            print(f"[{at:>6}] rule {event.trigger!r} -> {event.visitor}: {event.extra['message']}")


def show(backend: Backend) -> None:
    now = backend.clock.now()
    page = backend.live.online(now)
    print(f"\nWho's on at {format_ts(now)}: {page.total} visitor(s)")
    for row in page.rows:
        trail = " > ".join(step.url for step in row.trail)
        signals = "; ".join(signal.reason for signal in row.signals) or "-"
        chat = row.chat if row.agent is None else f"{row.chat} with {row.agent}"
        print(f"  {row.visitor:6} {row.url:16} {format_duration(row.on_page_seconds or 0):>6}"
              f"  chat: {chat:24} trail: {trail}")
        print(f"  {'':6} signals: {signals}")
    waiting = backend.live.waiting(now)
    print(f"Waiting: {[(w.visitor, format_duration(w.wait_seconds)) for w in waiting]}")
    expected = backend.live.expected_wait(now)
    print(f"Agents online: {backend.live.agents_online(now)}; expected wait: "
          f"{'unknown' if expected is None else format_duration(expected)}")


def main() -> None:
    clock = FixedClock(START)
    backend = Backend(clock)
    story = iter(STORY)
    upcoming = next(story, None)
    for second in range(181):
        clock.set(START + timedelta(seconds=second))
        while upcoming is not None and upcoming[0] == second:
            backend.receive(upcoming[1])
            upcoming = next(story, None)
        backend.tick()
    show(backend)


if __name__ == "__main__":
    main()
