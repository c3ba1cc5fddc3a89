"""What the collector's ``202`` reply carries as ``invite``: the open invitation, if any.

An invitation is open while a request an agent or a rule started for the
visitor (in the current visit) has neither ended nor been answered by a
message of the visitor. The tag shows it as a bubble; the same dict is pushed
on the visitor's stream (``/chat/stream``) so it arrives within seconds, not
at the next heartbeat.

>>> from datetime import UTC, datetime
>>> from whoson import FixedClock, Tracker
>>> from whoson.web.chat import chat_service
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 1, 12, 0, 10, tzinfo=UTC)))
>>> _ = tracker.record({"id": "p", "type": "page_view", "ts": "2026-03-01T12:00:00Z",
...                     "visitor": "v1", "url": "/help"})
>>> pending_invite(tracker, "v1") is None
True
>>> request = chat_service(tracker).invite("ann", "v1", "Need a hand?")
>>> invite = pending_invite(tracker, "v1")
>>> invite["agent"], invite["message"], invite["initiator"], invite["request"] == request
('ann', 'Need a hand?', 'agent', True)
"""

from __future__ import annotations

from typing import Any

from whoson.tracker import Tracker
from whoson.web.chat import chat_service, open_invitation

__all__ = ["pending_invite"]


def pending_invite(tracker: Tracker, visitor: str) -> dict[str, Any] | None:
    """``{"request", "agent", "message", "channel", "initiator", "trigger", "link"}`` of the
    visitor's open invitation, or ``None``.

    ``agent`` is ``None`` for a rule's invitation (``trigger`` names the rule);
    ``message`` is the agent's first message, or the rule's text, or ``None``
    when the text was neither stored nor seen by this process. Cost: one
    :meth:`whoson.Tracker.visitor` lookup plus a scan of the visitor's events.
    """
    return open_invitation(tracker, visitor, chat_service(tracker).relay)
