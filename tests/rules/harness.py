"""A tracker in miniature: records events once, feeds the live view and the rules engine."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tests.live.helpers import Feed, at
from whoson.core.events import AutoMessageEvent, Event, RequestEvent
from whoson.live import LiveConfig, LiveView
from whoson.rules import NotInChat, Rule, RuleEngine

__all__ = ["Harness"]


class Harness:
    """Records events like the Tracker will: duplicates ignored, fired events recorded too.

    Every invitation the engine fires, and every event of a rule with a
    NotInChat condition, is checked against the view *before* it is recorded:
    the visitor must be in no conversation and have no pending request.
    """

    def __init__(self, rules: Iterable[Rule], config: LiveConfig | None = None) -> None:
        self.view = LiveView(config)
        self.engine = RuleEngine(rules, self.view)
        self._rules = {rule.name: rule for rule in self.engine.rules}
        self.feed = Feed(self.view)
        self.log: list[Event] = []
        self.fired: list[Event] = []
        self.seen: set[str] = set()

    def record(self, event: Event, now: datetime) -> None:
        """Record one event (a no-op for an id already recorded) at clock time ``now``."""
        if event.id in self.seen:
            return
        self.seen.add(event.id)
        self.log.append(event)
        self.view.apply(event)
        self._fired(self.engine.on_event(event, now))

    def _fired(self, events: list[Event]) -> None:
        for event in events:
            trigger = getattr(event, "trigger", None)
            rule = self._rules.get(trigger) if isinstance(trigger, str) else None
            asks = rule is not None and any(isinstance(c, NotInChat) for c in rule.conditions)
            if event.visitor is not None and (isinstance(event, RequestEvent) or asks):
                facts = self.view.facts(event.visitor, event.ts)
                assert facts is not None
                expected = "none"
                assert expected == facts.snapshot.chat, f"{event.id} fired while in chat"
            if event.id not in self.seen:
                self.fired.append(event)
            self.record(event, event.ts)

    def __call__(self, kind: str, seconds: float, visitor: str | None = "v1",
                 **fields: Any) -> Event:
        """A new event at ``seconds``, recorded with the clock at its own time."""
        event = self.feed.make(kind, seconds, visitor, **fields)
        self.record(event, at(seconds))
        return event

    def tick(self, seconds: float) -> list[Event]:
        """Move the clock to ``seconds``; return what fired."""
        before = len(self.fired)
        self._fired(self.engine.tick(at(seconds)))
        return self.fired[before:]

    def firings(self) -> list[tuple[str, str, float]]:
        """``(trigger, visitor, seconds)`` of every auto message fired, in order."""
        return [
            (e.trigger, e.visitor or "", (e.ts - at(0)).total_seconds())
            for e in self.fired if isinstance(e, AutoMessageEvent)
        ]
