"""The exceptions whoson raises, each naming what was wrong and why."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = [
    "EXCERPT_CHARS",
    "ConfigError",
    "ConflictError",
    "InvalidEvent",
    "StoreError",
    "StoreLockedError",
    "WhosonError",
    "excerpt",
]

EXCERPT_CHARS = 80
"""How many characters of a long rejected string an error keeps."""

# Containers up to this many nodes (and this deep) are kept as they are in an error.
_SMALL_NODES, _SMALL_DEPTH = 16, 4


def _small(value: Any, depth: int, budget: list[int]) -> bool:
    budget[0] -= 1
    if budget[0] < 0 or depth > _SMALL_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_small(k, depth + 1, budget) and _small(v, depth + 1, budget)
                   for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_small(v, depth + 1, budget) for v in value)
    return not isinstance(value, str) or len(value) <= EXCERPT_CHARS


def excerpt(value: Any) -> Any:
    """A bounded stand-in for a rejected value: the value itself when it is small.

    Errors keep what they show, so a rejected 1 MB url or a 500-level nested
    object must not be kept whole (nor printed, nor ``repr``-ed). Strings
    longer than :data:`EXCERPT_CHARS` keep their start and their length;
    integers of more than 20 digits, decimals of more than 40 characters and
    large or deep containers are described instead. O(1) for big values.

    >>> excerpt("x" * 1000)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (1000 characters)'
    >>> excerpt(10 ** 400), excerpt({"a": [1, 2]})
    ('<integer of about 401 digits>', {'a': [1, 2]})
    """
    if value is None or isinstance(value, (bool, float)):
        return value
    if isinstance(value, str):
        if len(value) <= EXCERPT_CHARS:
            return value
        return f"{value[:EXCERPT_CHARS]}... ({len(value)} characters)"
    if isinstance(value, int):
        if value.bit_length() <= 64:
            return value
        return f"<integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    if isinstance(value, Decimal):
        if not value.is_finite() or len(value.as_tuple().digits) <= 40:
            return value
        return f"<decimal of {len(value.as_tuple().digits)} digits, exponent {value.as_tuple().exponent}>"
    if isinstance(value, (dict, list, tuple)):
        if _small(value, 0, [_SMALL_NODES]):
            return value
        noun = "key" if isinstance(value, dict) else "item"
        kind = "object" if isinstance(value, dict) else "array"
        return f"<{kind} of {len(value)} {noun}{'' if len(value) == 1 else 's'}>"
    return f"<{type(value).__name__}>"


def _show(value: Any) -> str:
    # Money reads better as the number the producer wrote than as Decimal('...').
    text = repr(str(value)) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class WhosonError(Exception):
    """Base class of every error whoson raises on purpose."""


class InvalidEvent(WhosonError, ValueError):
    """An event broke a rule of the event contract.

    It names the offending ``field``, the ``value`` found there (a bounded
    :func:`excerpt` of it) and the ``rule`` that value broke, plus the event
    ``event_id`` when one was read.

    >>> err = InvalidEvent("ts", "2026-03-01T12:00:00", "must carry a UTC offset")
    >>> str(err)
    "field 'ts' = '2026-03-01T12:00:00': must carry a UTC offset"
    """

    def __init__(self, field: str, value: Any, rule: str, *, event_id: str | None = None) -> None:
        # An extra field's name comes from the data too: keep a bounded excerpt of it.
        self.field = field if len(field) <= EXCERPT_CHARS else str(excerpt(field))
        self.value = excerpt(value)
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


class StoreLockedError(StoreError):
    """Another writer held the store's write lock longer than the busy timeout.

    Nothing of the batch that met it was written, and appending is idempotent
    by event id, so re-sending the same events (re-running an ingest) is safe.
    """


class ConfigError(WhosonError, ValueError):
    """A setting, rule file or report parameter is not valid."""
