"""Terse builders for hand-derived report scenarios.

Each scenario module builds plain event mappings with :class:`Events` (event
ids auto-increment and are zero-padded, so ids sort in creation order, which
is the tie-break of the spec's ``(ts, event id)`` order), records them into an
in-memory :class:`~whoson.Tracker` whose clock stands at ``as_of`` and reads
the report back as ``to_dict()``.

Expected figures in the scenario modules are written by hand from
/work/shared/spec/metrics.md; :func:`close` only lets floats differ in the
last bits (money and counts are compared exactly).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

__all__ = ["Events", "close", "day_rows", "empty_daily_row", "report", "tracker", "ts"]

Event = dict[str, Any]


def ts(text: str) -> datetime:
    """An aware UTC datetime from an ISO string such as ``"2026-03-02T10:00:00Z"``."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"scenario timestamps need an offset: {text!r}")
    return moment.astimezone(UTC)


class Events:
    """Builds event mappings with auto-incrementing ids ``e00001``, ``e00002``, ...

    Every builder takes ``visitor`` and ``at`` (an ISO string with offset)
    first; extra keyword arguments become event fields (``None`` values are
    dropped, so optional fields can be passed through unconditionally).
    """

    def __init__(self, prefix: str = "e") -> None:
        self._prefix = prefix
        self._count = 0

    def _make(self, type_: str, visitor: str | None, at: str, **fields: Any) -> Event:
        self._count += 1
        event: Event = {"id": f"{self._prefix}{self._count:05d}", "type": type_, "ts": at}
        if visitor is not None:
            event["visitor"] = visitor
        event.update({key: value for key, value in fields.items() if value is not None})
        return event

    # Browsing -------------------------------------------------------------------------------

    def page_view(self, visitor: str, at: str, url: str, **kw: Any) -> Event:
        """A ``page_view`` (pass ``session=`` for an explicit session id)."""
        return self._make("page_view", visitor, at, url=url, **kw)

    def heartbeat(self, visitor: str, at: str, url: str | None = None) -> Event:
        """A ``heartbeat``."""
        return self._make("heartbeat", visitor, at, url=url)

    def page_leave(self, visitor: str, at: str, url: str | None = None) -> Event:
        """A ``page_leave``."""
        return self._make("page_leave", visitor, at, url=url)

    def cart_update(self, visitor: str, at: str, value: str) -> Event:
        """A ``cart_update`` with the cart subtotal ``value`` (a numeric string)."""
        return self._make("cart_update", visitor, at, value=value)

    def order(self, visitor: str, at: str, order: str, subtotal: str, **kw: Any) -> Event:
        """An ``order`` (``discount``, ``shipping``, ``tax`` as keyword strings)."""
        return self._make("order", visitor, at, order=order, subtotal=subtotal, **kw)

    # Widget and auto messages -----------------------------------------------------------------

    def impression(self, visitor: str, at: str, url: str | None = None) -> Event:
        """A ``widget_impression``."""
        return self._make("widget_impression", visitor, at, url=url)

    def click(self, visitor: str, at: str, url: str | None = None, **kw: Any) -> Event:
        """A ``widget_click``."""
        return self._make("widget_click", visitor, at, url=url, **kw)

    def auto_message(self, visitor: str, at: str, trigger: str, link: str | None = None) -> Event:
        """An ``auto_message`` shown by ``trigger``, optionally carrying ``link``."""
        return self._make("auto_message", visitor, at, trigger=trigger, link=link)

    def auto_click(self, visitor: str, at: str, trigger: str, link: str | None = None) -> Event:
        """An ``auto_message_click`` on ``trigger``'s message (or its ``link``)."""
        return self._make("auto_message_click", visitor, at, trigger=trigger, link=link)

    # Requests and conversations ---------------------------------------------------------------

    def request(
        self,
        visitor: str,
        at: str,
        request: str,
        *,
        channel: str = "text",
        initiator: str = "visitor",
        agent: str | None = None,
        **kw: Any,
    ) -> Event:
        """A ``request`` (default: a text request by the visitor)."""
        return self._make(
            "request", visitor, at, request=request, channel=channel, initiator=initiator,
            agent=agent, **kw,
        )

    def visitor_msg(self, visitor: str, at: str, request: str) -> Event:
        """A ``message`` sent by the visitor."""
        return self._make("message", visitor, at, request=request, sender="visitor")

    def agent_msg(self, visitor: str, at: str, request: str, agent: str) -> Event:
        """A ``message`` sent by ``agent``."""
        return self._make("message", visitor, at, request=request, sender="agent", agent=agent)

    def visitor_join(self, visitor: str, at: str, request: str) -> Event:
        """A ``call_joined`` by the visitor."""
        return self._make("call_joined", visitor, at, request=request, participant="visitor")

    def agent_join(self, visitor: str, at: str, request: str, agent: str) -> Event:
        """A ``call_joined`` by ``agent``."""
        return self._make(
            "call_joined", visitor, at, request=request, participant="agent", agent=agent
        )

    def transfer(
        self,
        visitor: str,
        at: str,
        request: str,
        from_agent: str | None = None,
        to_agent: str | None = None,
        *,
        escalation: bool | None = None,
    ) -> Event:
        """A ``transfer`` (an escalation when ``escalation=True``)."""
        return self._make(
            "transfer", visitor, at, request=request, from_agent=from_agent, to_agent=to_agent,
            escalation=escalation,
        )

    def end(
        self,
        visitor: str,
        at: str,
        request: str,
        reason: str | None = "closed",
        *,
        resolved: bool | None = None,
    ) -> Event:
        """A ``request_end``."""
        return self._make("request_end", visitor, at, request=request, reason=reason,
                          resolved=resolved)

    def survey(self, visitor: str, at: str, **kw: Any) -> Event:
        """A ``survey`` (``request``, ``agent``, ``rating``, ``submitted``, ``feedback``)."""
        return self._make("survey", visitor, at, **kw)

    # Agents -----------------------------------------------------------------------------------

    def agent_status(self, at: str, agent: str, status: str = "online") -> Event:
        """An ``agent_status`` (carries no visitor)."""
        return self._make("agent_status", None, at, agent=agent, status=status)


def tracker(events: Iterable[Mapping[str, Any]], *, as_of: str, **tracker_kw: Any) -> Any:
    """An in-memory tracker holding ``events``, its clock fixed at ``as_of``.

    Fails the test if any event is rejected: a scenario with a typo in an
    event would otherwise test something else than its comments say.
    """
    from whoson import FixedClock, Tracker

    t = Tracker(clock=FixedClock(ts(as_of)), **tracker_kw)
    result = t.record_many(list(events))
    assert result.rejected == 0, [(o.event_id, str(o.error)) for o in result.errors]
    return t


def report(
    events: Iterable[Mapping[str, Any]],
    *,
    as_of: str,
    tracker_kw: Mapping[str, Any] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """``Tracker(...).report(**params).to_dict()`` for ``events`` seen at ``as_of``."""
    t = tracker(events, as_of=as_of, **dict(tracker_kw or {}))
    result: dict[str, Any] = t.report(**params).to_dict()
    return result


def close(expected: Any) -> Any:
    """``expected`` with every float wrapped in ``pytest.approx`` (rel 1e-9), recursively.

    Counts, money (Decimal), strings and ``None`` still compare exactly.
    """
    if isinstance(expected, float):
        return pytest.approx(expected, rel=1e-9, abs=1e-12)
    if isinstance(expected, dict):
        return {key: close(value) for key, value in expected.items()}
    if isinstance(expected, list):
        return [close(value) for value in expected]
    return expected


def empty_daily_row(day: str) -> dict[str, Any]:
    """The ``trends.daily`` row of a date without events: zero counts, null rates/averages."""
    return {
        "date": day,
        "visitors": 0,
        "widget_ctr": None,
        "requests": 0,
        "text_requests": 0,
        "video_requests": 0,
        "visitor_request_acceptance_rate": None,
        "conversations": 0,
        "video_conversations": 0,
        "avg_rating": None,
        "attributed_gmv": Decimal(0),
    }


def day_rows(d: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``{date: row[key]}`` over ``trends.daily``, for tests that look at one column."""
    return {row["date"]: row[key] for row in d["trends"]["daily"]}

