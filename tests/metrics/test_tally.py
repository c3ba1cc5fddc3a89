"""Declared tally keys: each declared once with its kind; reading an undeclared key is an error."""

from __future__ import annotations

import pickle
from decimal import Decimal

import pytest

from whoson.metrics import contributions
from whoson.metrics.ledger import DISTINCT
from whoson.metrics.requests import REQUESTS
from whoson.metrics.sales import ATTRIBUTED_GMV, GMV
from whoson.metrics.support import FIRST_RESPONSE
from whoson.metrics.tally import Declaration, Kind, Tally, UnknownKeyError, declare, declared, declared_keys
from whoson.metrics.visitors import SEEN, SESSIONS, VISITORS


def _report_keys() -> dict[str, Declaration]:
    """The keys the report families declare (doctests may declare a few ``doc_`` keys of their own)."""
    assert contributions  # importing it imports every family
    return {name: key for name, key in declared_keys().items() if key.owner.startswith("whoson.metrics.")
            and not name.startswith("doc_")}


class TestDeclarations:
    """Every key is declared once, in its family's module, with a kind."""

    def test_names_are_unique_and_owned_by_families(self) -> None:
        """Each name maps to one key, declared in a family module (never in the generic machinery)."""
        keys = _report_keys()
        generic = {"whoson.metrics.tally", "whoson.metrics.slots", "whoson.metrics.ledger",
                   "whoson.metrics.contributions"}
        assert set() == {name for name, key in keys.items() if key.owner in generic}
        assert all(name == key.name for name, key in keys.items())

    def test_distinct_set_is_derived(self) -> None:
        """The bags merged as set unions are exactly the keys declared ``SET``."""
        expected = {name for name, key in _report_keys().items() if key.kind is Kind.SET}
        assert expected == {name for name in DISTINCT if not name.startswith("doc_")}
        assert {"visitors", "seen", "clicked", "returning", "talked", "bought", "viewers",
                "requesters"} <= expected

    def test_declaring_again_elsewhere_fails(self) -> None:
        """A second declaration of a name from another module (or with another kind) is refused."""
        with pytest.raises(ValueError, match="already declared"):
            declare("visitors", Kind.COUNT)

    def test_key_is_its_name(self) -> None:
        """A key is its (interned) name, so a name spelled out finds the same entry."""
        assert "visitors" == VISITORS
        assert ("req", Kind.COUNT, ("channel", "initiator"), True) == (
            declared(REQUESTS).name, declared(REQUESTS).kind, declared(REQUESTS).dims, declared(REQUESTS).hourly)
        assert ("req", "text", "visitor") == (REQUESTS, "text", "visitor")

    def test_pickled_tally_reads_alike(self) -> None:
        """A tally pickled and loaded back reads the same figures through the declared keys."""
        tally = Tally()
        tally.put(SEEN, "v1")
        tally.count((REQUESTS, "text", "visitor"))
        loaded = pickle.loads(pickle.dumps(tally))
        assert (1, 1) == (loaded.distinct(SEEN), loaded.number((REQUESTS, "text", "visitor")))


class TestReads:
    """Reads check the declaration: a typo or a wrong kind never reads as zero."""

    def setup_method(self) -> None:
        self.tally = Tally()
        self.tally.count((REQUESTS, "text", "visitor"), 2)
        self.tally.count((GMV,), Decimal("9.50"))
        self.tally.put(SEEN, "v1")

    def test_declared_keys_read(self) -> None:
        """Declared keys read what was written, and 0 / empty when nothing was."""
        assert 2 == self.tally.number(("req", "text", "visitor"))
        assert 0 == self.tally.number((REQUESTS, "video", "agent"))
        assert Decimal("9.50") == self.tally.money((GMV,))
        assert Decimal(0) == self.tally.money((ATTRIBUTED_GMV,))
        assert 1 == self.tally.distinct(SEEN)
        assert 0 == self.tally.distinct(VISITORS)

    def test_unknown_number(self) -> None:
        """A number nobody declared raises instead of reading 0."""
        with pytest.raises(UnknownKeyError, match="'requests'"):
            self.tally.number(("requests", "text", "visitor"))

    def test_unknown_bag(self) -> None:
        """A bag nobody declared raises instead of reading empty."""
        with pytest.raises(UnknownKeyError, match="'seen_widget'"):
            self.tally.distinct("seen_widget")

    def test_wrong_dimensions(self) -> None:
        """A number read with the wrong dimensions raises."""
        with pytest.raises(UnknownKeyError, match="dimensions"):
            self.tally.number((REQUESTS, "text"))

    def test_wrong_kind(self) -> None:
        """A set read as a number, or a number as a bag, raises."""
        with pytest.raises(UnknownKeyError):
            self.tally.number((SEEN,))
        with pytest.raises(UnknownKeyError):
            self.tally.multiset(SESSIONS)
        with pytest.raises(UnknownKeyError):
            self.tally.ranked(SEEN)

    def test_merging_an_undeclared_bag(self) -> None:
        """A bag written under an undeclared name fails when the tallies are merged for reading."""
        self.tally.bags["sen"] = {"v1": 1}
        with pytest.raises(UnknownKeyError):
            Tally.merged([self.tally])


class TestMerge:
    """Merging follows the kinds: sets as unions, bags and ranked bags with multiplicities."""

    def test_kinds(self) -> None:
        """Two tallies of one visitor: the set counts them once, the ranked bag keeps both waits."""
        a, b = Tally(), Tally()
        for tally in (a, b):
            tally.put(SEEN, "v1")
            tally.put(FIRST_RESPONSE, 5_000_000)
            tally.count((SESSIONS,))
        merged = Tally.merged([a, b])
        assert 1 == merged.distinct(SEEN)
        assert (2, 10_000_000) == (merged.ranked(FIRST_RESPONSE).count, merged.ranked(FIRST_RESPONSE).total)
        assert 2 == merged.number((SESSIONS,))
