"""Tally: additive sums and multisets, the unit every report figure is derived from.

A tally holds numbers (counts, money, microseconds) and bags (multisets of
visitors, urls, response times, ...). Tallies add and subtract key by key, so
a slot of time can take in a visitor's contribution and later give it back.

>>> a = Tally()
>>> a.count(("requests",), 2)
>>> a.put("visitors", "v1")
>>> b = Tally()
>>> b.count(("requests",))
>>> b.put("visitors", "v2")
>>> a.add(b)
>>> a.number(("requests",)), sorted(a.members("visitors"))
(3, ['v1', 'v2'])
>>> a.add(b, sign=-1)
>>> a.number(("requests",)), sorted(a.members("visitors"))
(2, ['v1'])
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal

import attrs

__all__ = ["Key", "Ranked", "Tally"]

Key = tuple[Hashable, ...]
Number = int | Decimal


@attrs.frozen
class Ranked:
    """A multiset of integers seen through its order statistics.

    ``count`` members summing to ``total``; ``at(rank)`` is the member at
    0-based ``rank`` of the sorted members (only the ranks a figure needs are
    ever asked for, so an engine may compute just those).

    >>> Tally.ranked_of({5: 2, 1: 1}).at(1), Tally.ranked_of({5: 2, 1: 1}).total
    (5, 11)
    """

    count: int
    total: int
    at: Callable[[int], int]


class Tally:
    """Numbers and bags under tuple / string keys; ``add`` is key-wise addition."""

    __slots__ = ("bags", "numbers")

    def __init__(self) -> None:
        self.numbers: dict[Key, Number] = {}
        self.bags: dict[str, dict[Hashable, int]] = {}

    def count(self, key: Key, amount: Number = 1) -> None:
        """Add ``amount`` to the number under ``key``."""
        numbers = self.numbers
        numbers[key] = numbers.get(key, 0) + amount

    def number(self, key: Key) -> Number:
        """The number under ``key`` (0 when absent)."""
        return self.numbers.get(key, 0)

    def money(self, key: Key) -> Decimal:
        """The number under ``key`` as a Decimal (``Decimal(0)`` when absent)."""
        value = self.numbers.get(key, 0)
        return value if isinstance(value, Decimal) else Decimal(value)

    def bag(self, name: str) -> dict[Hashable, int]:
        """The multiset ``name`` (created empty), member -> multiplicity."""
        bag = self.bags.get(name)
        if bag is None:
            bag = self.bags[name] = {}
        return bag

    def put(self, name: str, member: Hashable, times: int = 1) -> None:
        """Add ``member`` to bag ``name``."""
        bag = self.bag(name)
        bag[member] = bag.get(member, 0) + times

    def members(self, name: str) -> Iterable[Hashable]:
        """The distinct members of bag ``name``."""
        return self.bags.get(name, {}).keys()

    def multiset(self, name: str) -> dict[Hashable, int]:
        """Bag ``name`` as a read-only view's worth of (member, multiplicity)."""
        return self.bags.get(name, {})

    def distinct(self, name: str) -> int:
        """How many distinct members bag ``name`` holds."""
        return len(self.bags.get(name, {}))

    def common(self, name: str, other: str) -> int:
        """How many distinct members bags ``name`` and ``other`` share."""
        return len(self.multiset(name).keys() & self.multiset(other).keys())

    def ranked(self, name: str) -> Ranked:
        """Bag ``name`` (integer members) as order statistics."""
        return self.ranked_of(self.multiset(name))

    @staticmethod
    def ranked_of(bag: dict[Hashable, int]) -> Ranked:
        """Order statistics of an integer bag (member -> multiplicity)."""
        values: list[int] = []
        for member, times in sorted((m, t) for m, t in bag.items() if isinstance(m, int)):
            values.extend([member] * times)
        return Ranked(len(values), sum(values), values.__getitem__)

    def add(self, other: Tally, sign: int = 1) -> None:
        """Add ``other`` into this tally (``sign=-1`` takes it back out).

        Bag members whose multiplicity falls to 0 disappear, so a retracted
        contribution leaves no trace; zero numbers stay (they are harmless).
        """
        numbers = self.numbers
        for key, value in other.numbers.items():
            numbers[key] = numbers.get(key, 0) + (value if sign > 0 else -value)
        for name, other_bag in other.bags.items():
            bag = self.bags.get(name)
            if bag is None:
                bag = self.bags[name] = {}
            for member, times in other_bag.items():
                total = bag.get(member, 0) + (times if sign > 0 else -times)
                if total:
                    bag[member] = total
                else:
                    del bag[member]

    def is_empty(self) -> bool:
        """Whether nothing non-zero is left."""
        return not any(self.numbers.values()) and not any(self.bags.values())

    @classmethod
    def merged(cls, tallies: Iterable[Tally], distinct: frozenset[str] = frozenset()) -> Tally:
        """A new tally holding the sum of ``tallies``.

        Bags named in ``distinct`` are only ever counted by their distinct
        members, so they are merged as set unions (their multiplicities then
        mean nothing), which is much faster; such a merged tally is for
        reading, not for retracting.

        >>> a, b = Tally(), Tally()
        >>> a.put("visitors", "v1"); b.put("visitors", "v1"); b.put("visitors", "v2")
        >>> sorted(Tally.merged([a, b], distinct=frozenset({"visitors"})).members("visitors"))
        ['v1', 'v2']
        """
        parts = list(tallies)
        total = cls()
        numbers = total.numbers
        for part in parts:
            for key, value in part.numbers.items():
                numbers[key] = numbers.get(key, 0) + value
        names = {name for part in parts for name in part.bags}
        for name in names:
            bags = [part.bags[name] for part in parts if name in part.bags]
            if name in distinct:
                # The largest bag copied, the others added in: dict-to-dict copies and
                # updates reuse the stored hashes, nothing is hashed again.
                largest = max(bags, key=len)
                union = largest.copy()
                for other in bags:
                    if other is not largest:
                        union.update(other)
                total.bags[name] = union
                continue
            bag: dict[Hashable, int] = {}
            for other in bags:
                for member, times in other.items():
                    bag[member] = bag.get(member, 0) + times
            total.bags[name] = {member: times for member, times in bag.items() if times}
        return total
