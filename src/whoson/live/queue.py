"""The waiting queue and the expected wait, indexed across all visitors.

The view keeps two sorted indexes, refreshed per visitor whenever that
visitor's state changes:

* waiting: ``(since, request, visitor)`` of every request in the visitor's
  current session whose visitor waits for an agent (see
  :attr:`~whoson.live.state.RequestState.waiting_since`);
* samples: ``(answered_at, request, seconds)`` of every first agent response
  to a waiting visitor, for :func:`estimate_wait`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from sortedcontainers import SortedList

from whoson.live.state import VisitorState

__all__ = ["RequestIndex", "estimate_wait"]

WaitingKey = tuple[datetime, str, str]
SampleKey = tuple[datetime, str, float]


def estimate_wait(samples: Sequence[float], waiting: int, agents: int) -> float | None:
    """Seconds a new visitor request should expect to wait.

    ``median(samples) * (1 + waiting / agents)``: the typical recent first
    response, stretched by the queue each online agent has to work through
    first. ``None`` when no agent is online or there is no recent sample.

    >>> estimate_wait([20.0, 40.0, 90.0], waiting=2, agents=4)
    60.0
    >>> estimate_wait([20.0], waiting=0, agents=0) is None
    True
    """
    if agents <= 0 or not samples:
        return None
    return statistics.median(samples) * (1 + waiting / agents)


class RequestIndex:
    """Sorted indexes of waiting requests and first-response samples."""

    def __init__(self) -> None:
        self._waiting: SortedList = SortedList()
        self._samples: SortedList = SortedList()
        self._keys: dict[str, tuple[frozenset[WaitingKey], frozenset[SampleKey]]] = {}

    def update(self, state: VisitorState) -> None:
        """Refresh the entries of ``state``'s visitor. O(r log n), r = the visitor's requests."""
        visitor = state.visitor
        old = self._keys.get(visitor)
        if old is None and not state.requests:
            return
        old_waiting, old_samples = old if old is not None else (frozenset(), frozenset())
        started = state.session.started
        waiting: set[WaitingKey] = set()
        samples: set[SampleKey] = set()
        for request in state.requests.values():
            since = request.waiting_since
            if since is not None and request.last_seen_at >= started:
                waiting.add((since, request.request, visitor))
            seconds = request.first_response_seconds
            if seconds is not None and request.agent_first is not None:
                samples.add((request.agent_first, request.request, seconds))
        new_waiting, new_samples = frozenset(waiting), frozenset(samples)
        for key in old_waiting - new_waiting:
            self._waiting.remove(key)
        for key in new_waiting - old_waiting:
            self._waiting.add(key)
        for sample in old_samples - new_samples:
            self._samples.remove(sample)
        for sample in new_samples - old_samples:
            self._samples.add(sample)
        self._keys[visitor] = (new_waiting, new_samples)

    def waiting(self, present: Callable[[str], bool]) -> Iterator[WaitingKey]:
        """Waiting entries of present visitors, oldest first. O(w), w = all open waits."""
        for key in self._waiting:
            if present(key[2]):
                yield key

    def recent_samples(self, start: datetime, end: datetime, limit: int) -> list[float]:
        """Seconds of the last ``limit`` first responses answered in ``(start, end]``.

        O(log n + limit).
        """
        low = self._samples.bisect_right((start, "\U0010ffff", float("inf")))
        high = self._samples.bisect_right((end, "\U0010ffff", float("inf")))
        low = max(low, high - limit)
        return [key[2] for key in self._samples.islice(low, high)]
