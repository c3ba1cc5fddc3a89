"""Auto message figures: shown, clicked, most clicked triggers and links."""

from __future__ import annotations

import attrs

from whoson.metrics.tally import Tally

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


def auto_message_figures(tally: Tally) -> AutoMessageFigures:
    """The ``auto_messages`` section: clicked triggers and links, most clicked first."""
    triggers = sorted(
        ((str(t), n) for t, n in tally.multiset("trigger_clicks").items()),
        key=lambda item: (-item[1], item[0]),
    )
    links = sorted(
        ((pair, n) for pair, n in tally.multiset("link_clicks").items() if isinstance(pair, tuple)),
        key=lambda item: (-item[1], item[0]),
    )
    return AutoMessageFigures(
        shown=int(tally.number(("auto_shown",))),
        clicks=int(tally.number(("auto_clicks",))),
        top_triggers=tuple(TriggerClicks(t, n) for t, n in triggers[:TOP]),
        top_links=tuple(LinkClicks(t, link, n) for (t, link), n in links[:TOP]),
    )
