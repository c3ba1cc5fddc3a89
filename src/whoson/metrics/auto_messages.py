"""Auto message figures: shown, clicked, most clicked triggers and links."""

from __future__ import annotations

from collections import Counter

import attrs

from whoson.metrics.scope import Scope

__all__ = ["AutoMessageFigures", "LinkClicks", "TriggerClicks", "auto_message_figures"]

TOP = 10


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


def auto_message_figures(scope: Scope) -> AutoMessageFigures:
    """The ``auto_messages`` section: clicked triggers and links, most clicked first."""
    params = scope.params
    projection = scope.projection
    shown = sum(1 for ts, *_ in projection.auto_messages if params.in_range(ts))
    clicks = [(trigger, link) for ts, _, trigger, link in projection.auto_clicks if params.in_range(ts)]
    by_trigger = Counter(trigger for trigger, _ in clicks)
    by_link = Counter((trigger, link) for trigger, link in clicks if link)
    top_triggers = sorted(by_trigger.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    top_links = sorted(by_link.items(), key=lambda item: (-item[1], item[0]))[:TOP]
    return AutoMessageFigures(
        shown=shown,
        clicks=len(clicks),
        top_triggers=tuple(TriggerClicks(t, n) for t, n in top_triggers),
        top_links=tuple(LinkClicks(t, link, n) for (t, link), n in top_links),
    )
