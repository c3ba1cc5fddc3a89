"""How a live row reads: who the visitor is, their chat, their signals (text, not yet escaped).

>>> from whoson.live import Signal
>>> class Row:
...     visitor, name, chat, agent = "v1", "Ann", "in_conversation", "bo"
...     signals = (Signal("lingering", "on /pricing for 3m05s"),)
>>> who(Row()), chat(Row()), signals(Row())
('v1 (Ann)', 'in_conversation (bo)', 'lingering: on /pricing for 3m05s')
"""

from __future__ import annotations

from typing import Any

__all__ = ["chat", "signals", "who"]


def who(row: Any) -> str:
    """The visitor id, with the name ``identify`` gave, if any."""
    return str(row.visitor) if row.name is None else f"{row.visitor} ({row.name})"


def chat(row: Any) -> str:
    """The chat state, with the agent, if any."""
    return str(row.chat) if row.agent is None else f"{row.chat} ({row.agent})"


def signals(row: Any) -> str:
    """Each signal with its reason, ``-`` for none."""
    return "; ".join(f"{s.name}: {s.reason}" for s in row.signals) or "-"
