"""The exceptions whoson raises, each naming what was wrong and why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = [
    "ConfigError",
    "ConflictError",
    "InvalidEvent",
    "StoreError",
    "WhosonError",
]


def _show(value: Any) -> str:
    # Money reads better as the number the producer wrote than as Decimal('...').
    text = repr(str(value)) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class WhosonError(Exception):
    """Base class of every error whoson raises on purpose."""


class InvalidEvent(WhosonError, ValueError):
    """An event broke a rule of the event contract.

    It names the offending ``field``, the ``value`` found there and the
    ``rule`` that value broke, plus the event ``event_id`` when one was read.

    >>> err = InvalidEvent("ts", "2026-03-01T12:00:00", "must carry a UTC offset")
    >>> str(err)
    "field 'ts' = '2026-03-01T12:00:00': must carry a UTC offset"
    """

    def __init__(self, field: str, value: Any, rule: str, *, event_id: str | None = None) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.event_id = event_id
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        """One readable line: field, value and rule."""
        return f"field {self.field!r} = {_show(self.value)}: {self.rule}"

    def __str__(self) -> str:
        if self.event_id is not None:
            return f"event {self.event_id!r}: {self.reason}"
        return self.reason


class ConflictError(InvalidEvent):
    """An event reuses a stored key (event id, request visitor) with other content.

    The stored event is kept; the newcomer is rejected.
    """


class StoreError(WhosonError):
    """A store could not do what was asked (bad URL, I/O failure, schema mismatch)."""


class ConfigError(WhosonError, ValueError):
    """A setting, rule file or report parameter is not valid."""
