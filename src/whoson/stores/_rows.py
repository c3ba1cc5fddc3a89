"""What the SQL stores share: an event as a row, the meta table, batch preparation.

>>> from whoson.testing import make_event
>>> event_row(make_event("message", id="m1", request="r1"))[:5]
('m1', 'message', 1772366400000000, 'v1', 'r1')
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from whoson.core.batch import AppendOutcome, BatchResult, Status
from whoson.core.errors import InvalidEvent, StoreError
from whoson.core.events import Event
from whoson.core.settings import RatingScale
from whoson.stores._codec import encode_event, to_micros
from whoson.stores.base import StoreSettings

__all__ = [
    "APPLICATION",
    "SCHEMA_VERSION",
    "Prepared",
    "Row",
    "check_meta",
    "event_row",
    "initial_meta",
    "settings_from_meta",
    "settings_rows",
]

SCHEMA_VERSION = 1
"""The table layout of the PostgreSQL store (SQLite has its own, see ``whoson.stores.sqlite``)."""

APPLICATION = "whoson"

Row = tuple[str, str, int, str | None, str | None, str]
"""(id, type, ts in microseconds, visitor, request, JSON body)."""

R = TypeVar("R")


def event_row(event: Event, forbid_nul: bool = False) -> Row:
    """The row of ``event``; ``ValueError``/``TypeError`` if it cannot be stored.

    ``forbid_nul`` refuses NUL characters in the indexed text columns, which
    PostgreSQL text cannot hold (the JSON body escapes them).
    """
    body = encode_event(event)
    request = event.request_id
    keys = "\x01".join((event.id, event.visitor or "", request or ""))
    if forbid_nul and "\x00" in keys:
        raise ValueError("NUL characters are not allowed in id, visitor or request")
    # A lone surrogate is a valid Python str but not UTF-8: find it before the batch does.
    (keys + body).encode("utf-8")
    return (event.id, event.TYPE, to_micros(event.ts), event.visitor, request, body)


@attrs.frozen
class Prepared(Generic[R]):
    """A batch split into storable events (with their rows) and those refused up front."""

    events: list[Event]
    rows: list[R]
    where: list[int]
    refused: list[AppendOutcome]

    @classmethod
    def of(cls, batch: Sequence[Any], encode: Callable[[Event], R]) -> Prepared[R]:
        """Encode every event of ``batch`` with ``encode``; those that cannot be stored are rejected.

        ``encode`` raises ``TypeError`` or ``ValueError`` for an event it cannot store.
        """
        events: list[Event] = []
        rows: list[R] = []
        where: list[int] = []
        refused: list[AppendOutcome] = []
        for index, event in enumerate(batch):
            if not isinstance(event, Event):
                kind = type(event).__name__
                raise TypeError(f"append takes Event objects (see parse_event), got {kind}")
            try:
                rows.append(encode(event))
            except (TypeError, ValueError) as err:
                error = InvalidEvent("event", event.id, f"cannot be stored: {err}",
                                     event_id=event.id)
                refused.append(AppendOutcome(index, event.id, Status.REJECTED, error))
                continue
            events.append(event)
            where.append(index)
        return cls(events, rows, where, refused)

    def merge(self, result: BatchResult) -> BatchResult:
        """Outcomes of the storable events (renumbered to batch indices) and of the refused."""
        if not self.refused:
            return result
        outcomes = [attrs.evolve(o, index=self.where[o.index]) for o in result.outcomes]
        outcomes.extend(self.refused)
        outcomes.sort(key=lambda outcome: outcome.index)
        return BatchResult(tuple(outcomes))

    def accepted_rows(self, result: BatchResult) -> list[R]:
        """Rows of the events ``result`` (the classification of :attr:`events`) accepted."""
        accepted = Status.ACCEPTED
        return [row for row, status in zip(self.rows, result.statuses(), strict=True)
                if status is accepted]


def settings_rows(settings: StoreSettings) -> list[tuple[str, str]]:
    """The meta rows (key, value) that record ``settings``."""
    return [
        ("currency", json.dumps(settings.currency)),
        ("rating_scale", str(settings.rating_scale)),
    ]


def initial_meta(settings: StoreSettings) -> list[tuple[str, str]]:
    """Every meta row of a new store."""
    return [("application", APPLICATION), ("schema_version", str(SCHEMA_VERSION)),
            ("event_count", "0"), *settings_rows(settings)]


def settings_from_meta(meta: dict[str, str], where: str) -> StoreSettings:
    """The settings recorded in ``meta``; StoreError naming ``where`` if unreadable."""
    try:
        return StoreSettings(
            currency=json.loads(meta["currency"]),
            rating_scale=RatingScale.parse(meta["rating_scale"]),
        )
    except (KeyError, ValueError) as err:
        raise StoreError(f"{where} has unreadable settings: {err}") from err


def check_meta(meta: dict[str, str], where: str, *, newest: int = SCHEMA_VERSION) -> None:
    """Refuse a store of another application, or of an unknown schema version or one above ``newest``."""
    if meta.get("application") != APPLICATION:
        raise StoreError(f"{where} is not a whoson store")
    raw = meta.get("schema_version", "")
    version = int(raw) if raw.isdigit() else None
    if version is None or version < 1:
        raise StoreError(f"{where} has an unknown whoson schema version {raw!r}")
    if version > newest:
        raise StoreError(
            f"{where} has whoson schema version {version}, newer than this whoson "
            f"supports ({newest}); upgrade whoson to open it"
        )
