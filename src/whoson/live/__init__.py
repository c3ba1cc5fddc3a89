"""Who's on now: the live view, signals, the waiting queue and the expected wait.

See :class:`LiveView` and docs/live.md.
"""

from whoson.live.config import LiveConfig
from whoson.live.patterns import UrlPattern, url_matches
from whoson.live.rows import VisitorFacts
from whoson.live.signals import SIGNALS, format_duration
from whoson.live.snapshot import (
    CHAT_STATES,
    ConversationSummary,
    LivePage,
    OrderSummary,
    SessionSummary,
    Signal,
    TrailStep,
    VisitorDetail,
    VisitorSnapshot,
    WaitingRequest,
)
from whoson.live.view import LiveView

__all__ = [
    "CHAT_STATES",
    "SIGNALS",
    "ConversationSummary",
    "LiveConfig",
    "LivePage",
    "LiveView",
    "OrderSummary",
    "SessionSummary",
    "Signal",
    "TrailStep",
    "UrlPattern",
    "VisitorDetail",
    "VisitorFacts",
    "VisitorSnapshot",
    "WaitingRequest",
    "format_duration",
    "url_matches",
]
