"""Rule conditions about who the visitor is, their chat, their signals and the agents.

>>> CountryIn(["DE", "at"]).describe(), AgentsOnline(2).describe()
('country in at, de', 'at least 2 agents online')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

import attrs

from whoson.live.rows import VisitorFacts
from whoson.live.signals import SIGNALS
from whoson.rules.conditions import Condition, _at_least_one

__all__ = [
    "AgentsOnline",
    "CartValueAtLeast",
    "CountryIn",
    "CustomerKnown",
    "DeviceIn",
    "HasOrdered",
    "HasSignal",
    "NotInChat",
    "Returning",
]


def _strings(values: Iterable[str] | str) -> frozenset[str]:
    items = (values,) if isinstance(values, str) else tuple(values)
    if not items or not all(isinstance(v, str) and v for v in items):
        raise ValueError(f"expected one or more non-empty strings, got {values!r}")
    return frozenset(v.casefold() for v in items)


@attrs.frozen
class Returning(Condition):
    """A returning visitor (more than one session); ``Returning(False)``: a first visit."""

    value: bool = True

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.snapshot.returning == self.value

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "returning visitor" if self.value else "first visit"


@attrs.frozen
class CustomerKnown(Condition):
    """The visitor was identified as a customer (``CustomerKnown(False)``: anonymous)."""

    value: bool = True

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return (facts.snapshot.customer is not None) == self.value

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "customer known" if self.value else "customer unknown"


def _decimal(value: Decimal | int | str) -> Decimal:
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"a cart value must be a finite amount >= 0, got {value!r}")
    return amount


@attrs.frozen
class CartValueAtLeast(Condition):
    """The latest cart value is at least ``amount`` (exact Decimal)."""

    amount: Decimal = attrs.field(converter=_decimal)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.snapshot.cart_value >= self.amount

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"cart value >= {self.amount}"


@attrs.frozen
class HasOrdered(Condition):
    """The visitor has ordered before (``HasOrdered(False)``: never ordered)."""

    value: bool = True

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.has_ordered == self.value

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "has ordered before" if self.value else "never ordered"


@attrs.frozen
class CountryIn(Condition):
    """The session's country is one of these (case-insensitive)."""

    countries: frozenset[str] = attrs.field(converter=_strings)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        country = facts.snapshot.country
        return country is not None and country.casefold() in self.countries

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "country in " + ", ".join(sorted(self.countries))


@attrs.frozen
class DeviceIn(Condition):
    """The session's device is one of these (case-insensitive)."""

    devices: frozenset[str] = attrs.field(converter=_strings)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        device = facts.snapshot.device
        return device is not None and device.casefold() in self.devices

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "device in " + ", ".join(sorted(self.devices))


def _signal_name(_instance: object, _attribute: attrs.Attribute[str], name: str) -> None:
    if name not in SIGNALS:
        raise ValueError(f"unknown signal {name!r}; known: {', '.join(SIGNALS)}")


@attrs.frozen
class HasSignal(Condition):
    """The visitor's row carries this signal (see :data:`whoson.live.SIGNALS`)."""

    name: str = attrs.field(validator=_signal_name)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return self.name in facts.snapshot.signal_names

    def changes(self, facts: VisitorFacts) -> Iterator[datetime]:
        """The instant a time-based signal turns on, if it is off."""
        due = facts.signal_due.get(self.name)
        if due is not None and due > facts.now:
            yield due

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"has signal {self.name}"


@attrs.frozen
class NotInChat(Condition):
    """No conversation and no pending request in the current session."""

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.snapshot.chat == "none"

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "not in chat and no pending request"


@attrs.frozen
class AgentsOnline(Condition):
    """At least ``count`` agents are online (from ``agent_status`` events)."""

    count: int = attrs.field(default=1, validator=_at_least_one)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.agents_online >= self.count

    def needs_agents(self) -> bool:
        """Agent status changes flip it."""
        return True

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"at least {self.count} agent{'s' if self.count != 1 else ''} online"
