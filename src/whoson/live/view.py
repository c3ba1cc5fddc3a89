"""The live view: who is on the site now, folded from events as they arrive.

>>> from datetime import UTC, datetime
>>> from whoson.core.parsing import parse_event
>>> view = LiveView()
>>> view.apply(parse_event({"id": "1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                         "visitor": "v1", "url": "/pricing"}))
>>> view.apply(parse_event({"id": "2", "type": "heartbeat", "ts": "2026-03-01T12:02:00Z",
...                         "visitor": "v1"}))
>>> page = view.online(datetime(2026, 3, 1, 12, 3, 5, tzinfo=UTC))
>>> page.total, page.rows[0].url, page.rows[0].on_page_seconds
(1, '/pricing', 185.0)
>>> [signal.reason for signal in page.rows[0].signals]
['on /pricing for 3m05s']
>>> view.online(datetime(2026, 3, 1, 12, 4, 1, tzinfo=UTC)).total  # 2 min after the heartbeat
0
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime

import attrs
from sortedcontainers import SortedList

from whoson.core.events import AgentStatusEvent, Event
from whoson.live.config import LiveConfig
from whoson.live.patterns import UrlPattern, url_matches
from whoson.live.queue import RequestIndex, estimate_wait
from whoson.live.rows import VisitorFacts, build_detail, build_facts, build_row, chat_state
from whoson.live.scoring import InviteModel, ranked_by_score, scored
from whoson.live.snapshot import LivePage, VisitorDetail, VisitorSnapshot, WaitingRequest
from whoson.live.state import VisitorState

__all__ = ["LiveView"]

_AgentEntry = tuple[datetime, str, str]  # (ts, event id, status)


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    return now.astimezone(UTC)


def _sort_key(event: Event) -> tuple[datetime, str]:
    return event.sort_key


class LiveView:
    """Who's on now, signals, the waiting queue and the expected wait.

    Feed it every accepted event with :meth:`apply`; ask it with
    :meth:`online`, :meth:`visitor`, :meth:`waiting`, :meth:`expected_wait`
    and :meth:`agents_online`, always passing ``now`` (the view never reads a
    clock). Events may come late or out of order: each visitor's state is the
    fold of that visitor's events in ``(ts, id)`` order, refolded when an event
    lands before the newest one. Queries count every applied event; an event
    stamped after ``now`` counts as if it were at ``now`` (durations never go
    negative).

    **Presence.** A visitor is online at ``now`` when their *anchor* is at
    most ``presence_timeout`` old. The anchor is the visitor's last activity,
    or, after a ``page_leave`` of the current page that no ``page_view``
    followed, that leave: a visitor who left is gone once the timeout passes,
    whatever other events (a late chat message) they carry. Activity is what
    the visitor's side does (see :func:`~whoson.live.state.is_visitor_activity`):
    an auto message, an agent's message or a request end names the visitor
    but does not keep them online, so a rule firing never extends presence.
    A ``page_leave`` naming another url than the current page (a late beacon
    from before a navigation) closes nothing. Rows are sorted by anchor, newest
    first (ties by visitor id, descending).

    Memory: every applied event is kept, per visitor, so late events can be
    refolded; the indexes add O(visitors + requests).
    """

    def __init__(self, config: LiveConfig | None = None) -> None:
        self.config = config if config is not None else LiveConfig()
        self._visitors: dict[str, VisitorState] = {}
        self._presence: SortedList = SortedList()
        self._anchors: dict[str, datetime] = {}
        self._requests = RequestIndex()
        self._agents: dict[str, list[_AgentEntry]] = {}
        # Scores rows when set (whoson.live.scoring; Tracker.fit_invite_model sets it).
        self.invite_model: InviteModel | None = None

    # -- feeding ------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one accepted event into the view.

        O(log n) for an event newer than the visitor's others (the usual
        case), O(k) for a late one, k = the visitor's events. Re-applying an
        event with the same ``(ts, id)`` is a no-op.
        """
        if isinstance(event, AgentStatusEvent):
            self._apply_agent(event)
            return
        visitor = event.visitor
        if visitor is None:
            return
        state = self._visitors.get(visitor)
        if state is None:
            state = VisitorState(visitor, session_timeout=self.config.session_timeout)
            self._visitors[visitor] = state
        key = event.sort_key
        if state.events and key <= state.events[-1].sort_key:
            index = bisect.bisect_left(state.events, key, key=_sort_key)
            if index < len(state.events) and state.events[index].sort_key == key:
                return
            events = [*state.events[:index], event, *state.events[index:]]
            state = VisitorState(visitor, session_timeout=self.config.session_timeout)
            for earlier in events:
                state.step(earlier)
            self._visitors[visitor] = state
        else:
            state.step(event)
        self._reindex(state)

    def _reindex(self, state: VisitorState) -> None:
        visitor = state.visitor
        anchor = state.anchor
        old = self._anchors.get(visitor)
        if old != anchor:
            if old is not None:
                self._presence.remove((old, visitor))
                del self._anchors[visitor]
            if anchor is not None:
                self._presence.add((anchor, visitor))
                self._anchors[visitor] = anchor
        self._requests.update(state)

    def _apply_agent(self, event: AgentStatusEvent) -> None:
        history = self._agents.setdefault(event.agent, [])
        entry = (event.ts, event.id, event.status)
        index = bisect.bisect_left(history, entry)
        if index < len(history) and history[index][:2] == entry[:2]:
            return
        history.insert(index, entry)

    # -- presence -----------------------------------------------------------------

    def is_present(self, visitor: str, now: datetime) -> bool:
        """Whether ``visitor`` is online at ``now``. O(1)."""
        anchor = self._anchors.get(visitor)
        return anchor is not None and anchor >= _utc(now) - self.config.presence_timeout

    def present(self, now: datetime) -> Iterator[str]:
        """Ids of the visitors online at ``now``, newest anchor first.

        O(log n) to start, O(1) per visitor yielded.
        """
        start = self._first_present(_utc(now))
        for _, visitor in self._presence.islice(start, len(self._presence), reverse=True):
            yield visitor

    def _first_present(self, now: datetime) -> int:
        return int(self._presence.bisect_left((now - self.config.presence_timeout, "")))

    # -- queries ------------------------------------------------------------------

    def online(
        self,
        now: datetime,
        *,
        url: UrlPattern | None = None,
        country: str | None = None,
        in_chat: bool | None = None,
        signal: str | None = None,
        limit: int = 50,
        offset: int = 0,
        sort: str = "activity",
    ) -> LivePage:
        """The visitors online at ``now``, newest activity first, one page at a time.

        Filters: ``url`` (glob string or compiled regex, on the current page),
        ``country`` (case-insensitive), ``in_chat`` (``True``: an open request
        or conversation, ``False``: neither), ``signal`` (a signal name the row
        must carry). ``total`` counts every match, not only this page.

        Cost: without filters O(log n + limit), n = visitors ever seen. With
        filters every online visitor is examined: O(m) cheap checks for
        ``url``/``country``, plus one row build per candidate for
        ``in_chat``/``signal``, m = visitors online.

        ``sort="invite_score"`` ranks the matches by :attr:`invite_model`'s
        score, highest first (rows without a score last, then by activity):
        one row build per match.
        """
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must be >= 0")
        if sort not in ("activity", "invite_score"):
            raise ValueError(f"sort must be 'activity' or 'invite_score', got {sort!r}")
        if sort == "invite_score":
            every = self.online(now, url=url, country=country, in_chat=in_chat, signal=signal,
                                limit=len(self._presence), offset=0)
            return ranked_by_score(every, limit, offset)
        now = _utc(now)
        start = self._first_present(now)
        size = len(self._presence)
        if url is None and country is None and in_chat is None and signal is None:
            stop = max(start, size - offset)
            begin = max(start, stop - limit)
            rows = tuple(
                self._row(visitor, now)
                for _, visitor in self._presence.islice(begin, stop, reverse=True)
            )
            return LivePage(now, rows, size - start)
        wanted_country = country.casefold() if country is not None else None
        matched: list[VisitorSnapshot] = []
        total = 0
        for _, visitor in self._presence.islice(start, size, reverse=True):
            state = self._visitors[visitor]
            if url is not None and not self._url_matches(url, state):
                continue
            if wanted_country is not None and (
                state.session.country is None or state.session.country.casefold() != wanted_country
            ):
                continue
            row: VisitorSnapshot | None = None
            if in_chat is not None and (chat_state(state)[0] != "none") != in_chat:
                continue
            if signal is not None:
                row = self._row(visitor, now)
                if signal not in row.signal_names:
                    continue
            if offset <= total < offset + limit:
                matched.append(row if row is not None else self._row(visitor, now))
            total += 1
        return LivePage(now, tuple(matched), total)

    @staticmethod
    def _url_matches(pattern: UrlPattern, state: VisitorState) -> bool:
        page = state.session.current_page
        return page is not None and url_matches(pattern, page.url)

    def _row(self, visitor: str, now: datetime) -> VisitorSnapshot:
        return scored(build_row(self._visitors[visitor], now, self.config)[0], self.invite_model)

    def visitor(self, visitor_id: str, now: datetime) -> VisitorDetail | None:
        """One visitor's row plus history (sessions, requests with ratings, orders).

        ``None`` for a visitor never seen. O(k), k = the visitor's sessions,
        requests and orders.
        """
        state = self._visitors.get(visitor_id)
        if state is None:
            return None
        now = _utc(now)
        detail = build_detail(state, now, self.config, online=self.is_present(visitor_id, now))
        return attrs.evolve(detail, snapshot=scored(detail.snapshot, self.invite_model))

    def facts(self, visitor_id: str, now: datetime) -> VisitorFacts | None:
        """What rules see of a visitor at ``now`` (``None`` if never seen)."""
        state = self._visitors.get(visitor_id)
        if state is None:
            return None
        now = _utc(now)
        return build_facts(
            state, now, self.config,
            present=self.is_present(visitor_id, now),
            agents_online=len(self.agents_online(now)),
        )

    def waiting(self, now: datetime) -> list[WaitingRequest]:
        """Visitor requests no agent has answered yet that have not ended, oldest first.

        A request counts while its visitor is online and it belongs to the
        visitor's current session; offline requests (left for later) are not
        a live queue. An invitation counts once the visitor answered it, from
        that answer. O(w), w = open waiting requests of all visitors.
        """
        now = _utc(now)
        out: list[WaitingRequest] = []
        for since, request_id, visitor in self._requests.waiting(
            lambda v: self.is_present(v, now)
        ):
            request = self._visitors[visitor].requests[request_id]
            out.append(WaitingRequest(
                request=request_id,
                visitor=visitor,
                since=since,
                wait_seconds=max(0.0, (now - since).total_seconds()),
                channel=request.channel,
                initiator=request.initiator,
                url=request.url,
                department=request.department,
            ))
        return out

    def expected_wait(self, now: datetime) -> float | None:
        """Seconds a new visitor request should expect to wait, or ``None``.

        ``median(recent) * (1 + waiting / agents)`` where ``recent`` are the
        first-response times (visitor waiting -> first agent message or call
        join) of the last ``expected_wait_samples`` requests answered within
        ``expected_wait_window`` before ``now``, ``waiting`` is
        ``len(waiting(now))`` and ``agents`` is ``len(agents_online(now))``.
        ``None`` when no agent is online or nothing was answered in the window.
        """
        now = _utc(now)
        agents = len(self.agents_online(now))
        if agents == 0:
            return None
        samples = self._requests.recent_samples(
            now - self.config.expected_wait_window, now, self.config.expected_wait_samples
        )
        return estimate_wait(samples, len(self.waiting(now)), agents)

    def agents_online(self, now: datetime) -> list[str]:
        """Agents whose latest ``agent_status`` at or before ``now`` is ``online``, sorted.

        O(a log s), a = agents, s = status changes per agent.
        """
        now = _utc(now)
        online: list[str] = []
        for agent, history in self._agents.items():
            index = bisect.bisect_right(history, (now, "\U0010ffff", "")) - 1
            if index >= 0 and history[index][2] == "online":
                online.append(agent)
        return sorted(online)

    def activity(self, visitor_id: str) -> tuple[datetime | None, datetime | None, int] | None:
        """``(last_activity, left_at, events)`` of a visitor, ``None`` if never seen. O(1).

        ``left_at`` is the ``page_leave`` of the current page (``None`` while it
        is open); ``events`` counts the visitor's applied events, so a caller can
        tell cheaply whether anything about the visitor changed.

        >>> from whoson.core.parsing import parse_event
        >>> view = LiveView()
        >>> view.apply(parse_event({"id": "1", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
        ...                         "visitor": "v1", "url": "/"}))
        >>> last, left, count = view.activity("v1")
        >>> last.isoformat(), left, count, view.activity("nobody")
        ('2026-03-01T12:00:00+00:00', None, 1, None)
        """
        state = self._visitors.get(visitor_id)
        if state is None:
            return None
        return state.last_activity, state.left_at, len(state.events)

    def events_of(self, visitor_id: str) -> tuple[Event, ...]:
        """The visitor's applied events in ``(ts, id)`` order (empty if never seen). O(k)."""
        state = self._visitors.get(visitor_id)
        return () if state is None else tuple(state.events)

    def __len__(self) -> int:
        """How many visitors the view has seen."""
        return len(self._visitors)

    def __contains__(self, visitor: object) -> bool:
        return visitor in self._visitors


