"""The ``auto_messages`` family: shown, clicked, most clicked triggers and links.

The tally keys (declared once), what an auto message event adds to them and
how the section is read are all here.

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "auto_message", "ts": "2026-03-02T09:00:00Z", "visitor": "v1", "trigger": "t1"},
...     {"id": "2", "type": "auto_message_click", "ts": "2026-03-02T09:01:00Z", "visitor": "v1",
...      "trigger": "t1"},
... ])
>>> auto = tracker.report().auto_messages
>>> auto.shown, auto.clicks, auto.top_triggers[0].trigger
(1, 1, 't1')
"""

from __future__ import annotations

import attrs

from whoson.core.events import AutoMessageClickEvent, AutoMessageEvent
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "AUTO_CLICKS",
    "AUTO_SHOWN",
    "LINK_CLICKS",
    "TRIGGER_CLICKS",
    "AutoMessageFigures",
    "LinkClicks",
    "TriggerClicks",
    "auto_message_figures",
    "click_into",
    "shown_into",
]

TOP = 10

AUTO_SHOWN = declare("auto_shown", Kind.COUNT, doc="in-range auto_message events")
AUTO_CLICKS = declare("auto_clicks", Kind.COUNT, doc="in-range auto_message_click events")
TRIGGER_CLICKS = declare("trigger_clicks", Kind.BAG, doc="trigger -> in-range clicks")
LINK_CLICKS = declare("link_clicks", Kind.BAG, doc="(trigger, link) -> in-range clicks naming a link")

# ------------------------------------------------------------------ contributions


def shown_into(tally: Tally, event: AutoMessageEvent, visitor: str) -> None:
    """An auto message shown in the tally's slot."""
    tally.count((AUTO_SHOWN,))


def click_into(tally: Tally, event: AutoMessageClickEvent, visitor: str) -> None:
    """An auto message clicked in the tally's slot."""
    tally.count((AUTO_CLICKS,))
    tally.put(TRIGGER_CLICKS, event.trigger)
    if event.link:
        tally.put(LINK_CLICKS, (event.trigger, event.link))


# ------------------------------------------------------------------ figures


@attrs.frozen
class TriggerClicks:
    """One row of ``top_triggers``."""

    trigger: str
    clicks: int


@attrs.frozen
class LinkClicks:
    """One row of ``top_links``."""

    trigger: str
    link: str
    clicks: int


@attrs.frozen
class AutoMessageFigures:
    """``auto_messages`` section."""

    shown: int
    clicks: int
    top_triggers: tuple[TriggerClicks, ...]
    top_links: tuple[LinkClicks, ...]


def auto_message_figures(tally: Tally) -> AutoMessageFigures:
    """The ``auto_messages`` section: clicked triggers and links, most clicked first."""
    triggers = sorted(
        ((str(t), n) for t, n in tally.multiset(TRIGGER_CLICKS).items()),
        key=lambda item: (-item[1], item[0]),
    )
    links = sorted(
        ((pair, n) for pair, n in tally.multiset(LINK_CLICKS).items() if isinstance(pair, tuple)),
        key=lambda item: (-item[1], item[0]),
    )
    return AutoMessageFigures(
        shown=int(tally.number((AUTO_SHOWN,))),
        clicks=int(tally.number((AUTO_CLICKS,))),
        top_triggers=tuple(TriggerClicks(t, n) for t, n in triggers[:TOP]),
        top_links=tuple(LinkClicks(t, link, n) for (t, link), n in links[:TOP]),
    )
