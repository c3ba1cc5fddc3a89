"""Tally: additive sums and multisets under declared keys, the unit every report figure is derived from.

Every key a figure reads is declared once (:func:`declare`, a module-level
:class:`Key`) with its :class:`Kind`, in the family module that writes and reads it (the
``visitors`` keys in :mod:`whoson.metrics.visitors`, and so on). A tally
holds numbers (counts, sums, money) under ``(key, *dimension values)``
tuples and bags (multisets of visitors, urls, response times, ...) under the
key itself. Tallies add and subtract key by key, so a slot of time can take
in a visitor's contribution and later give it back.

Reading a key nobody declared raises :class:`UnknownKeyError` (a typo never
reads as zero), and so does reading a key as what it is not (a count as a set).

>>> ORDERS_SEEN = declare("doc_orders", Kind.COUNT)
>>> BUYERS_SEEN = declare("doc_buyers", Kind.SET)
>>> a = Tally()
>>> a.count((ORDERS_SEEN,), 2)
>>> a.put(BUYERS_SEEN, "v1")
>>> b = Tally()
>>> b.count((ORDERS_SEEN,))
>>> b.put(BUYERS_SEEN, "v2")
>>> a.add(b)
>>> a.number((ORDERS_SEEN,)), sorted(a.members(BUYERS_SEEN))
(3, ['v1', 'v2'])
>>> a.add(b, sign=-1)
>>> a.number((ORDERS_SEEN,)), sorted(a.members(BUYERS_SEEN))
(2, ['v1'])
>>> a.number(("doc_order",))
Traceback (most recent call last):
...
whoson.metrics.tally.UnknownKeyError: no tally key 'doc_order' is declared
"""

from __future__ import annotations

import enum
import sys
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from decimal import Decimal
from operator import itemgetter
from typing import NewType, cast

import attrs

__all__ = [
    "Declaration", "Key", "Kind", "NumberKey", "Ranked", "Tally", "UnknownKeyError", "declare", "declared",
    "declared_keys",
]

Number = int | Decimal


class Kind(enum.Enum):
    """What a tally key holds, which decides how it is added, merged and read."""

    #: How many (an ``int``), read with :meth:`Tally.number`.
    COUNT = "count"
    #: A sum of integer measures (microseconds, rating points), read with :meth:`Tally.number`.
    SUM = "sum"
    #: A sum of money (``Decimal``), read with :meth:`Tally.money`.
    MONEY = "money"
    #: A bag only ever counted by its distinct members: merged as a set union when read.
    SET = "set"
    #: A multiset whose multiplicities are read (top urls, clicks per trigger, records).
    BAG = "bag"
    #: A multiset of integers read through its order statistics (:meth:`Tally.ranked`).
    RANKED = "ranked"


_NUMBERS = frozenset({Kind.COUNT, Kind.SUM, Kind.MONEY})
_BAGS = frozenset({Kind.SET, Kind.BAG, Kind.RANKED})
_DECLARED: dict[str, Declaration] = {}


class UnknownKeyError(LookupError):
    """A tally key that no module declared was read (or a key was read as what it is not)."""


Key = NewType("Key", str)
"""A declared tally key: the plain (interned) string it is named by, typed apart from other strings.

Made only by :func:`declare`, so mypy rejects a write under a string nobody
declared; at run time it is the exact string, as cheap as a literal on the hot path.
"""


@attrs.frozen
class Declaration:
    """What a key holds: its kind, the names of the dimension values that follow it in a number's
    key tuple, whether it is also kept per local hour (the hourly trend), and who declared it."""

    name: str
    kind: Kind
    dims: tuple[str, ...] = ()
    hourly: bool = False
    doc: str = ""
    owner: str = "?"


def declare(
    name: str, kind: Kind, dims: tuple[str, ...] = (), *, hourly: bool = False, doc: str = ""
) -> Key:
    """Declare the tally key ``name`` once, at import time; the key to write and read with.

    Declaring a name again with another shape, or from another module, raises ``ValueError``.

    >>> DOC_CHATS = declare("doc_chats", Kind.COUNT, ("channel",), doc="chats per channel")
    >>> DOC_CHATS, declared("doc_chats").kind, declared("doc_chats").dims
    ('doc_chats', <Kind.COUNT: 'count'>, ('channel',))
    """
    owner = str(sys._getframe(1).f_globals.get("__name__", "?"))
    declaration = Declaration(name, kind, dims, hourly, doc, owner)
    existing = _DECLARED.get(name)
    if existing is not None and existing != declaration:
        raise ValueError(f"tally key {name!r} is already declared in {existing.owner}")
    if hourly and kind not in _NUMBERS:
        raise ValueError(f"tally key {name!r}: only numbers are kept per hour")
    _DECLARED[name] = declaration
    return Key(sys.intern(name))


def declared(name: str) -> Declaration:
    """The declaration of key ``name``; :class:`UnknownKeyError` when there is none.

    >>> declared("no_such_key")
    Traceback (most recent call last):
    ...
    whoson.metrics.tally.UnknownKeyError: no tally key 'no_such_key' is declared
    """
    key = _DECLARED.get(name)
    if key is None:
        raise UnknownKeyError(f"no tally key {str(name)!r} is declared")
    return key


def declared_keys() -> dict[str, Declaration]:
    """Every key declared so far (the family modules declare theirs when imported), by name."""
    return dict(_DECLARED)


#: A number's key: the declared :class:`Key` followed by its dimension values.
NumberKey = tuple[Key, *tuple[Hashable, ...]]


def _bag_key(name: str, kinds: frozenset[Kind] = _BAGS) -> Declaration:
    key = declared(name)
    if key.kind not in kinds:
        raise UnknownKeyError(f"tally key {str(name)!r} is a {key.kind.value}, not read this way")
    return key


def _number_key(key: tuple[Hashable, ...]) -> NumberKey:
    head = key[0]
    declaration = declared(head) if isinstance(head, str) else None
    if declaration is None or declaration.kind not in _NUMBERS:
        raise UnknownKeyError(f"tally key {head!r} is not a declared number")
    if len(key) - 1 != len(declaration.dims):
        raise UnknownKeyError(
            f"tally key {str(head)!r} takes dimensions {declaration.dims}, got {key[1:]!r}"
        )
    return cast(NumberKey, key)


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
    """Numbers and bags under declared keys; ``add`` is key-wise addition.

    Writes (:meth:`count`, :meth:`put`) are the hot path and take the declared
    keys as they are (mypy checks that they are :class:`Key`); reads
    check the key's declaration, and raise :class:`UnknownKeyError` for a name
    nobody declared, so a typo never reads as zero.
    """

    __slots__ = ("bags", "numbers")

    def __init__(self) -> None:
        self.numbers: dict[NumberKey, Number] = {}
        self.bags: dict[str, dict[Hashable, int]] = {}

    def count(self, key: NumberKey, amount: Number = 1) -> None:
        """Add ``amount`` to the number under ``key``. O(1)."""
        numbers = self.numbers
        numbers[key] = numbers.get(key, 0) + amount

    def number(self, key: tuple[Hashable, ...]) -> Number:
        """The number under ``key`` (0 when absent; :class:`UnknownKeyError` when undeclared)."""
        return self.numbers.get(_number_key(key), 0)

    def money(self, key: tuple[Hashable, ...]) -> Decimal:
        """The number under ``key`` as a Decimal (``Decimal(0)`` when absent)."""
        value = self.numbers.get(_number_key(key), 0)
        return value if isinstance(value, Decimal) else Decimal(value)

    def bag(self, name: Key) -> dict[Hashable, int]:
        """The multiset ``name`` (created empty), member -> multiplicity."""
        bag = self.bags.get(name)
        if bag is None:
            bag = self.bags[name] = {}
        return bag

    def put(self, name: Key, member: Hashable, times: int = 1) -> None:
        """Add ``member`` to bag ``name``. O(1)."""
        bag = self.bags.get(name)
        if bag is None:
            bag = self.bags[name] = {}
        bag[member] = bag.get(member, 0) + times

    def members(self, name: str) -> Iterable[Hashable]:
        """The distinct members of bag ``name``."""
        return self.multiset(name).keys()

    def multiset(self, name: str) -> dict[Hashable, int]:
        """Bag ``name`` as a read-only view's worth of (member, multiplicity)."""
        _bag_key(name)
        return self.bags.get(name, {})

    def distinct(self, name: str) -> int:
        """How many distinct members bag ``name`` holds."""
        return len(self.multiset(name))

    def common(self, name: str, other: str) -> int:
        """How many distinct members bags ``name`` and ``other`` share."""
        return len(self.multiset(name).keys() & self.multiset(other).keys())

    def distinct_by_first(self, name: str) -> Counter[Hashable]:
        """Per first element of bag ``name``'s pair members: how many distinct members have it.

        >>> t = Tally(); t.bags["viewers"] = {("/a", "v1"): 2, ("/a", "v2"): 1, ("/b", "v1"): 1}
        >>> sorted(t.distinct_by_first("viewers").items())
        [('/a', 2), ('/b', 1)]
        """
        return Counter(map(itemgetter(0), self.multiset(name)))  # type: ignore[arg-type]

    def common_by_first(self, name: str, other: str) -> Counter[Hashable]:
        """Per first element: how many distinct pair members bags ``name`` and ``other`` share.

        O(members of ``name``): keep the smaller bag first.
        """
        theirs = self.multiset(other)
        return Counter(pair[0] for pair in self.multiset(name) if pair in theirs)  # type: ignore[index]

    def ranked(self, name: str) -> Ranked:
        """Bag ``name`` (integer members) as order statistics."""
        _bag_key(name, frozenset({Kind.RANKED}))
        return self.ranked_of(self.bags.get(name, {}))

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
    def merged(cls, tallies: Iterable[Tally]) -> Tally:
        """A new tally holding the sum of ``tallies``, for reading.

        Bags declared :attr:`Kind.SET` are only ever counted by their distinct
        members, so they are merged as set unions (their multiplicities then
        mean nothing), which is much faster; such a merged tally is for
        reading, not for retracting. An undeclared bag raises
        :class:`UnknownKeyError`. O(members of the tallies).

        >>> DOC_READERS = declare("doc_readers", Kind.SET)
        >>> a, b = Tally(), Tally()
        >>> a.put(DOC_READERS, "v1"); b.put(DOC_READERS, "v1"); b.put(DOC_READERS, "v2")
        >>> sorted(Tally.merged([a, b]).members(DOC_READERS))
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
            if declared(name).kind is Kind.SET:
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

