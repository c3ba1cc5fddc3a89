"""Turning a visitor's folded state into snapshots, details and rule facts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs

from whoson.live.config import LiveConfig
from whoson.live.signals import compute_signals
from whoson.live.snapshot import (
    ConversationSummary,
    OrderSummary,
    SessionSummary,
    TrailStep,
    VisitorDetail,
    VisitorSnapshot,
)
from whoson.live.state import VisitorState

__all__ = ["VisitorFacts", "build_detail", "build_facts", "build_row", "chat_state"]

_ZERO = timedelta(0)


@attrs.frozen
class VisitorFacts:
    """What engagement rules see of a visitor at ``now``.

    ``snapshot`` is the live row; ``page_opened``/``page_end`` bound the
    current page (``page_end`` is ``None`` while it is open); ``signal_due``
    says when each time-based signal that is off turns on by itself;
    ``session_urls`` is the session's trail; ``has_ordered`` counts orders
    ever; ``agents_online`` is the number of agents online at ``now``.
    """

    now: datetime
    present: bool
    snapshot: VisitorSnapshot
    page_opened: datetime | None
    page_end: datetime | None
    session_started: datetime
    session_urls: tuple[str, ...]
    signal_due: Mapping[str, datetime]
    agents_online: int

    @property
    def has_ordered(self) -> bool:
        """Whether the visitor ever ordered (as far as the events say)."""
        return self.snapshot.orders > 0


def chat_state(state: VisitorState) -> tuple[str, str | None, datetime | None]:
    """``(chat, agent, waiting_since)`` over the open requests of the current session.

    A request that never got its ``request_end`` stops counting once its
    session is over.
    """
    started = state.session.started
    chat, agent, since = "none", None, None
    latest_conversation: datetime | None = None
    for request in state.requests.values():
        if request.ended is not None or request.last_seen_at < started:
            continue
        if request.is_conversation:
            if latest_conversation is None or request.last_seen_at >= latest_conversation:
                latest_conversation = request.last_seen_at
                chat, agent = "in_conversation", request.current_agent
        elif chat == "none":
            chat, agent = "pending", request.agent if request.initiator == "agent" else None
        waited = request.waiting_since
        if waited is not None and (since is None or waited < since):
            since = waited
    return chat, agent, since


def build_row(
    state: VisitorState, now: datetime, config: LiveConfig
) -> tuple[VisitorSnapshot, dict[str, datetime]]:
    """The snapshot of ``state`` at ``now`` and the due instants of its off signals.

    O(pages in the current session + requests of the visitor).
    """
    session = state.session
    pages = session.pages
    trail: list[TrailStep] = []
    for index, page in enumerate(pages):
        end = page.closed
        if end is None:
            end = pages[index + 1].opened if index + 1 < len(pages) else now
        seconds = max(_ZERO, min(end, now) - page.opened).total_seconds()
        trail.append(TrailStep(page.url, seconds))
    current = session.current_page
    url = current.url if current is not None else None
    chat, agent, waiting_since = chat_state(state)
    page_visits = session.url_counts.get(url, 0) if url is not None else 0
    signals, due = compute_signals(
        config,
        now=now,
        url=url,
        page_opened=current.opened if current is not None else None,
        page_end=current.closed if current is not None else None,
        page_visits=page_visits,
        session_started=session.started,
        cart_value=state.cart_value,
        session_orders=session.orders,
        waiting_since=waiting_since,
    )
    visits = len(state.sessions)
    snapshot = VisitorSnapshot(
        visitor=state.visitor,
        customer=state.customer,
        name=state.name,
        url=url,
        title=current.title if current is not None else None,
        on_page_seconds=trail[-1].seconds if trail else None,
        session_started=session.started,
        on_site_seconds=max(_ZERO, now - session.started).total_seconds(),
        pages_viewed=len(pages),
        trail=tuple(trail),
        page_visits=page_visits,
        visits=visits,
        returning=visits > 1,
        referrer=session.referrer,
        device=session.device,
        country=session.country,
        cart_value=state.cart_value,
        orders=len(state.orders),
        lifetime_value=state.lifetime_value,
        chat=chat,
        agent=agent,
        signals=signals,
    )
    return snapshot, due


def build_facts(
    state: VisitorState, now: datetime, config: LiveConfig, *, present: bool, agents_online: int
) -> VisitorFacts:
    """The facts rules are evaluated on."""
    snapshot, due = build_row(state, now, config)
    current = state.session.current_page
    return VisitorFacts(
        now=now,
        present=present,
        snapshot=snapshot,
        page_opened=current.opened if current is not None else None,
        page_end=current.closed if current is not None else None,
        session_started=state.session.started,
        session_urls=tuple(step.url for step in snapshot.trail),
        signal_due=due,
        agents_online=agents_online,
    )


def build_detail(state: VisitorState, now: datetime, config: LiveConfig, *,
                 online: bool) -> VisitorDetail:
    """The visitor's row (at ``now``, or at the last activity when gone) and history."""
    last_seen = state.last_activity or state.last_event
    assert last_seen is not None, "a visitor state exists only once it has an event"
    at = now if online else last_seen
    snapshot, _ = build_row(state, at, config)
    sessions = tuple(
        SessionSummary(
            number=s.number,
            started=s.started,
            ended=s.last,
            seconds=(s.last - s.started).total_seconds(),
            pages_viewed=len(s.pages),
            landing=s.pages[0].url if s.pages else None,
            referrer=s.referrer,
            device=s.device,
            country=s.country,
            orders=s.orders,
            order_value=s.order_value,
        )
        for s in state.sessions
    )
    requests = sorted(
        state.requests.values(), key=lambda r: (r.created or r.first_seen_at, r.request)
    )
    conversations = tuple(
        ConversationSummary(
            request=r.request,
            started=r.created or r.first_seen_at,
            channel=r.channel,
            initiator=r.initiator,
            trigger=r.trigger,
            agent=r.current_agent,
            conversation=r.is_conversation,
            ended=r.ended,
            end_reason=r.end_reason,
            resolved=r.resolved,
            rating=r.rating,
            feedback=r.feedback,
        )
        for r in requests
    )
    orders = tuple(
        OrderSummary(o.order, o.ts, o.value, o.currency)
        for o in sorted(state.orders.values(), key=lambda o: o.sort_key)
    )
    return VisitorDetail(snapshot, online, last_seen, sessions, conversations, orders)
