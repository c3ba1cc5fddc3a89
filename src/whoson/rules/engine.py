"""The rules engine: evaluates rules on events and on the clock, fires events.

>>> from datetime import UTC, datetime, timedelta
>>> from whoson.core.parsing import parse_event
>>> from whoson.live import LiveView
>>> from whoson.rules.conditions import TimeOnPage, UrlMatches
>>> from whoson.rules.model import Invite, Rule
>>> live = LiveView()
>>> engine = RuleEngine([Rule("checkout-help", [UrlMatches("*/checkout*"), TimeOnPage(60)],
...                           Invite("text", "Need a hand?"))], live)
>>> t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
>>> view = parse_event({"id": "e1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                     "visitor": "v1", "url": "/checkout"})
>>> live.apply(view)
>>> engine.on_event(view, t0)
[]
>>> engine.next_due() == t0 + timedelta(seconds=60)
True
>>> for event in engine.tick(t0 + timedelta(seconds=60)):
...     print(event.type, event.id, event.trigger)
auto_message rule:checkout-help:v1:1772366400000000:message checkout-help
request rule:checkout-help:v1:1772366400000000:request checkout-help
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from sortedcontainers import SortedList

from whoson.core.errors import ConfigError
from whoson.core.events import MAX_ID, AgentStatusEvent, AutoMessageEvent, Event, HoldoutEvent, RequestEvent
from whoson.core.parsing import parse_event
from whoson.core.time import format_ts
from whoson.live.rows import VisitorFacts
from whoson.live.view import LiveView
from whoson.rules.model import Invite, Rule, in_holdout

__all__ = ["RuleEngine", "fired_id"]

_MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def fired_id(rule: str, visitor: str, session: datetime, ordinal: int = 1) -> str:
    """The deterministic base id of a firing: ``rule:<rule>:<visitor>:<session start micros>``.

    It names the cause, not the clock: the ``ordinal``-th firing of the rule
    for the visitor in the session that started at ``session`` (``:<ordinal>``
    is added from the second on). Engines in several processes, or a replay,
    that fire the same rule for the same visitor and session produce the same
    id, whenever their clocks say it happened. Event ids add ``:message`` /
    ``:request`` (``:holdout`` for a control-group visitor); the invitation's request id is the base itself. Too long
    for the event contract, it becomes a hash.

    >>> fired_id("help", "v1", datetime(2026, 3, 1, 12, tzinfo=UTC))
    'rule:help:v1:1772366400000000'
    >>> fired_id("help", "v1", datetime(2026, 3, 1, 12, tzinfo=UTC), 2)
    'rule:help:v1:1772366400000000:2'
    """
    suffix = f":{_micros(session)}" + (f":{ordinal}" if ordinal > 1 else "")
    base = f"rule:{rule}:{visitor}{suffix}"
    if len(base) + len(":request") <= MAX_ID:
        return base
    digest = hashlib.sha256(f"{rule}\0{visitor}".encode()).hexdigest()[:40]
    return f"rule:{rule}:{digest}{suffix}"


class RuleEngine:
    """Evaluates engagement rules against a :class:`~whoson.live.LiveView`.

    Call :meth:`on_event` after applying each accepted event to the view, and
    :meth:`tick` as the clock moves (or at :meth:`next_due`). Both return the
    events fired (``auto_message``, plus a ``request`` with initiator ``auto``
    for an :class:`~whoson.rules.model.Invite`), stamped ``now``, with ids from
    :func:`fired_id`: recording them and applying them to the view is the
    caller's job, and a replay that fires again produces the same ids, so the
    store sees duplicates. Evaluation depends only on the view's events and
    ``now``.

    The events a rule fired are not evaluated again when they are recorded
    (they only count for the limits): until all of an invitation's events are
    applied, the view does not yet show its pending request, and re-evaluating
    in between could invite twice.

    A visitor is evaluated only while online. Rules run in the given order; an
    invitation never goes to a visitor in a conversation or with a pending
    request (whatever the conditions), and at most one invitation per visitor
    and evaluation. Limits are kept per rule and visitor from the firings the
    engine made and from recorded ``auto_message`` / auto ``request`` events
    whose ``trigger`` names a rule, so a restarted engine fed the stored events
    respects them too.

    A rule with a ``holdout`` fraction records, for a visitor in its control
    group (:func:`~whoson.rules.model.in_holdout`), one ``holdout`` event
    instead of its action; it counts for the limits like a firing, and since
    nothing was shown, later rules of the same evaluation may still invite.

    Scheduling: after evaluating a visitor the engine keeps the earliest future
    instant at which a time-based condition, a cool-down or a rate-limit window
    could let a rule fire; :meth:`tick` pops the due ones, costing
    O(log n + due) instead of a scan. An ``agent_status`` event re-evaluates
    every online visitor when some rule has an agents-online condition.
    """

    def __init__(self, rules: Iterable[Rule], live: LiveView) -> None:
        self.rules = tuple(rules)
        names = [rule.name for rule in self.rules]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ConfigError(f"rule names must be unique; repeated: {', '.join(duplicates)}")
        self.live = live
        self._names = frozenset(names)
        self._needs_agents = any(
            c.needs_agents() for rule in self.rules if rule.enabled for c in rule.conditions
        )
        self._due: SortedList = SortedList()
        self._due_of: dict[str, datetime] = {}
        self._last_fired: dict[tuple[str, str], datetime] = {}
        self._fired_at: dict[str, SortedList] = {}
        # Per (rule, visitor): the instants it fired, to number the firings of a session.
        self._visitor_fired: dict[tuple[str, str], SortedList] = {}

    def on_event(self, event: Event, now: datetime) -> list[Event]:
        """Note an applied event and evaluate what it may have changed, at ``now``.

        An event fired by one of the rules is only counted for the limits.
        O(rules) for the event's visitor; O(online visitors x rules) for an
        ``agent_status`` event when a rule counts agents.
        """
        now = now.astimezone(UTC)
        if self._note_firing(event):
            return []
        if isinstance(event, AgentStatusEvent):
            if not self._needs_agents:
                return []
            fired: list[Event] = []
            for visitor in list(self.live.present(now)):
                fired.extend(self._evaluate(visitor, now))
            return fired
        if event.visitor is None:
            return []
        return self._evaluate(event.visitor, now)

    def follow(self, event: Event, now: datetime) -> None:
        """Note an event another process recorded (and evaluated); fire nothing.

        Its firings count for the limits, and its visitor's time-based rules
        are scheduled, so that this engine's :meth:`tick` fires them on time
        too: both engines then fire with the same ids (see :func:`fired_id`)
        and the store keeps one invitation. A rule that already holds is left to
        the process that recorded the event. O(rules).
        """
        now = now.astimezone(UTC)
        if self._note_firing(event) or event.visitor is None:
            return
        self._evaluate(event.visitor, now, fire=False)

    def observe(self, event: Event) -> None:
        """Note a recorded event without evaluating anything (replays, history loads).

        Firings found in the history count towards the rules' limits. O(log n).
        """
        self._note_firing(event)

    def tick(self, now: datetime) -> list[Event]:
        """Evaluate the visitors whose next possible firing is due at or before ``now``.

        O(log n) plus O(rules) per due visitor.
        """
        now = now.astimezone(UTC)
        fired: list[Event] = []
        while self._due and self._due[0][0] <= now:
            _, visitor = self._due.pop(0)
            del self._due_of[visitor]
            fired.extend(self._evaluate(visitor, now))
        return fired

    def next_due(self) -> datetime | None:
        """The earliest instant a :meth:`tick` could fire something, if any. O(1)."""
        return self._due[0][0] if self._due else None

    # -- internals ------------------------------------------------------------------

    def _note_firing(self, event: Event) -> bool:
        """Count a recorded firing of one of our rules; True if ``event`` is one."""
        if event.visitor is None:
            return False
        trigger: str | None = None
        if isinstance(event, (AutoMessageEvent, HoldoutEvent)) or (
            isinstance(event, RequestEvent) and event.initiator == "auto"
        ):
            trigger = event.trigger
        if trigger is None or trigger not in self._names:
            return False
        self._record(trigger, event.visitor, event.ts)
        return True

    def _record(self, rule: str, visitor: str, at: datetime) -> None:
        key = (rule, visitor)
        last = self._last_fired.get(key)
        if last is None or at > last:
            self._last_fired[key] = at
        fired = self._fired_at.setdefault(rule, SortedList())
        if at not in fired:
            fired.add(at)
        mine = self._visitor_fired.setdefault(key, SortedList())
        if at not in mine:
            mine.add(at)

    def _schedule(self, visitor: str, at: datetime | None) -> None:
        old = self._due_of.pop(visitor, None)
        if old is not None:
            self._due.remove((old, visitor))
        if at is not None:
            self._due.add((at, visitor))
            self._due_of[visitor] = at

    def _blocked(
        self, rule: Rule, visitor: str, facts: VisitorFacts
    ) -> tuple[bool, datetime | None]:
        """Whether the rule's per-visitor limits block it now, and until when."""
        last = self._last_fired.get((rule.name, visitor))
        if last is None:
            return False, None
        if last >= facts.now:
            return True, None  # fired at this very instant (or a later one): never twice
        if rule.limits.once_per_session and last >= facts.session_started:
            return True, None  # a new session needs a new event, which re-evaluates
        cooldown = rule.limits.cooldown
        if cooldown is not None and facts.now < last + cooldown:
            return True, last + cooldown
        return False, None

    def _rate_free_at(self, rule: Rule, now: datetime) -> datetime | None:
        """``None`` if the rule may fire now, else when its rate window frees up."""
        rate = rule.limits.rate_per_minute
        fired = self._fired_at.get(rule.name)
        if rate is None or not fired:
            return None
        low = fired.bisect_right(now - _MINUTE)
        high = fired.bisect_right(now)
        if high - low < rate:
            return None
        freed: datetime = fired[high - rate] + _MINUTE
        return freed

    def _evaluate(self, visitor: str, now: datetime, *, fire: bool = True) -> list[Event]:
        """Evaluate ``visitor``'s rules at ``now`` and reschedule; fire only if ``fire``."""
        facts = self.live.facts(visitor, now)
        if facts is None or not facts.present:
            self._schedule(visitor, None)
            return []
        fired: list[Event] = []
        upcoming: list[datetime] = []
        invited = facts.snapshot.chat != "none"
        for rule in self.rules:
            if not rule.enabled:
                continue
            is_invite = isinstance(rule.action, Invite)
            if is_invite and invited:
                continue
            blocked, retry = self._blocked(rule, visitor, facts)
            if blocked:
                if retry is not None:
                    upcoming.append(retry)
                continue
            if all(condition.holds(facts) for condition in rule.conditions):
                if not fire:
                    continue  # the process that recorded the event decides
                free_at = self._rate_free_at(rule, now)
                if free_at is not None:
                    upcoming.append(free_at)
                    continue
                held_out = in_holdout(rule.name, visitor, rule.holdout)
                fired.extend(self._hold_out(rule, facts) if held_out else self._fire(rule, facts))
                self._record(rule.name, visitor, now)
                if is_invite and not held_out:
                    # Later rules of this evaluation see the invitation as pending.
                    invited = True
                    facts = attrs.evolve(
                        facts, snapshot=attrs.evolve(facts.snapshot, chat="pending", agent=None)
                    )
            else:
                for condition in rule.conditions:
                    upcoming.extend(t for t in condition.changes(facts) if t > now)
        self._schedule(visitor, min(upcoming) if upcoming else None)
        return fired

    def _firing_id(self, rule: Rule, facts: VisitorFacts) -> str:
        """The base id of this firing (or holdout): the n-th of the rule for the visitor this session."""
        visitor = facts.snapshot.visitor
        earlier = self._visitor_fired.get((rule.name, visitor))
        before = 0 if earlier is None else len(earlier) - earlier.bisect_left(facts.session_started)
        return fired_id(rule.name, visitor, facts.session_started, before + 1)

    def _hold_out(self, rule: Rule, facts: VisitorFacts) -> list[Event]:
        """The ``holdout`` event that stands for a firing the control group does not see."""
        snapshot = facts.snapshot
        base = self._firing_id(rule, facts)
        holdout: dict[str, Any] = {
            "id": f"{base}:holdout", "type": "holdout", "ts": format_ts(facts.now),
            "visitor": snapshot.visitor, "trigger": rule.name,
        }
        if snapshot.url is not None:
            holdout["url"] = snapshot.url
        return [parse_event(holdout)]

    def _fire(self, rule: Rule, facts: VisitorFacts) -> list[Event]:
        snapshot = facts.snapshot
        base = self._firing_id(rule, facts)
        common: dict[str, Any] = {"ts": format_ts(facts.now), "visitor": snapshot.visitor}
        message: dict[str, Any] = {
            "id": f"{base}:message", "type": "auto_message", **common,
            "trigger": rule.name, "message": rule.action.message,
        }
        if rule.action.link is not None:
            message["link"] = rule.action.link
        if snapshot.url is not None:
            message["url"] = snapshot.url
        events = [parse_event(message)]
        if isinstance(rule.action, Invite):
            request: dict[str, Any] = {
                "id": f"{base}:request", "type": "request", **common, "request": base,
                "channel": rule.action.channel, "initiator": "auto", "trigger": rule.name,
            }
            if snapshot.url is not None:
                request["url"] = snapshot.url
            events.append(parse_event(request))
        return events
