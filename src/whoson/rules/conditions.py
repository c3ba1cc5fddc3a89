"""Rule conditions: small frozen objects evaluated on a visitor's facts.

Each condition answers :meth:`~Condition.holds` for a
:class:`~whoson.live.VisitorFacts` and lists, in :meth:`~Condition.changes`,
the future instants at which time alone could flip its answer (so the engine
re-evaluates exactly then, not on every tick). Conditions compose with
:class:`All`, :class:`Any` and :class:`Not`. This module has the base class,
the page and session conditions and the combinators;
:mod:`whoson.rules.visitor_conditions` has those about who the visitor is,
their chat and the agents.

>>> c = All((UrlMatches("*/checkout*"), TimeOnPage(60)))
>>> c.describe()
'(url matches */checkout* and time on page >= 60s)'
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import ClassVar

import attrs

from whoson.core.time import parse_duration
from whoson.live.patterns import UrlPattern, describe_pattern, url_matches
from whoson.live.rows import VisitorFacts

__all__ = [
    "All",
    "Any",
    "Condition",
    "Not",
    "PageVisitsAtLeast",
    "PagesViewedAtLeast",
    "ReferrerMatches",
    "TimeOnPage",
    "TimeOnSite",
    "UrlMatches",
    "VisitedInOrder",
]


class Condition(ABC):
    """Something that holds, or not, for a visitor at an instant."""

    @abstractmethod
    def holds(self, facts: VisitorFacts) -> bool:
        """Whether the condition holds for ``facts`` (at ``facts.now``)."""

    def changes(self, facts: VisitorFacts) -> Iterator[datetime]:
        """Instants after ``facts.now`` at which time alone may flip :meth:`holds`."""
        return iter(())

    def needs_agents(self) -> bool:
        """Whether agent status changes (not the visitor's events) can flip it."""
        return False

    @abstractmethod
    def describe(self) -> str:
        """A short readable form, for logs and docs."""


def _pattern(value: UrlPattern) -> UrlPattern:
    if not isinstance(value, (str, re.Pattern)) or value == "":
        raise TypeError(f"a url pattern must be a glob string or a compiled regex: {value!r}")
    return value


def _at_least_one(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be an integer >= 1, got {value!r}")


def _non_negative(_instance: object, attribute: attrs.Attribute[timedelta],
                  value: timedelta) -> None:
    if value < timedelta(0):
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _seconds(duration: timedelta) -> str:
    return f"{duration.total_seconds():g}s"


@attrs.frozen
class UrlMatches(Condition):
    """The current page's url matches a glob or regex.

    >>> UrlMatches("*/pricing*").describe()
    'url matches */pricing*'
    """

    pattern: UrlPattern = attrs.field(converter=_pattern)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return url_matches(self.pattern, facts.snapshot.url)

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"url matches {describe_pattern(self.pattern)}"


@attrs.frozen
class TimeOnPage(Condition):
    """On the current page for at least this long (a timedelta or seconds).

    The page stops counting when a ``page_leave`` closes it.
    """

    at_least: timedelta = attrs.field(converter=parse_duration, validator=_non_negative)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        if facts.page_opened is None:
            return False
        end = facts.now if facts.page_end is None else min(facts.now, facts.page_end)
        return end - facts.page_opened >= self.at_least

    def changes(self, facts: VisitorFacts) -> Iterator[datetime]:
        """The instant the page has been open ``at_least``, if it is still open."""
        if facts.page_opened is not None and facts.page_end is None:
            due = facts.page_opened + self.at_least
            if due > facts.now:
                yield due

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"time on page >= {_seconds(self.at_least)}"


@attrs.frozen
class TimeOnSite(Condition):
    """The current session started at least this long ago (a timedelta or seconds)."""

    at_least: timedelta = attrs.field(converter=parse_duration, validator=_non_negative)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.now - facts.session_started >= self.at_least

    def changes(self, facts: VisitorFacts) -> Iterator[datetime]:
        """The instant the session is ``at_least`` old."""
        due = facts.session_started + self.at_least
        if due > facts.now:
            yield due

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"time on site >= {_seconds(self.at_least)}"


@attrs.frozen
class PagesViewedAtLeast(Condition):
    """At least ``count`` page views in the current session."""

    count: int = attrs.field(validator=_at_least_one)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.snapshot.pages_viewed >= self.count

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"pages viewed >= {self.count}"


@attrs.frozen
class PageVisitsAtLeast(Condition):
    """The current url was opened at least ``count`` times in this session."""

    count: int = attrs.field(validator=_at_least_one)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return facts.snapshot.page_visits >= self.count

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"page visits of the current url >= {self.count}"


def _sequence(values: Iterable[UrlPattern]) -> tuple[UrlPattern, ...]:
    patterns = tuple(_pattern(v) for v in values)
    if not patterns:
        raise ValueError("visited_in_order needs at least one url pattern")
    return patterns


@attrs.frozen
class VisitedInOrder(Condition):
    """The session's pages contain the patterns in this order (other pages may come between).

    Each pattern is matched by a different page view, the current one included.

    >>> from whoson.live.rows import VisitorFacts
    >>> VisitedInOrder(("*/product*", "*/cart*")).matches(("/", "/product/1", "/", "/cart"))
    True
    >>> VisitedInOrder(("*/product*", "*/cart*")).matches(("/cart", "/product/1"))
    False
    """

    patterns: tuple[UrlPattern, ...] = attrs.field(converter=_sequence)

    def matches(self, urls: Iterable[str]) -> bool:
        """Whether ``urls`` contain the patterns as an ordered subsequence. O(len(urls))."""
        position = 0
        for url in urls:
            if url_matches(self.patterns[position], url):
                position += 1
                if position == len(self.patterns):
                    return True
        return False

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return self.matches(facts.session_urls)

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "visited " + " -> ".join(describe_pattern(p) for p in self.patterns)


@attrs.frozen
class ReferrerMatches(Condition):
    """The session's referrer (from its first page view) matches a glob or regex."""

    pattern: UrlPattern = attrs.field(converter=_pattern)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return url_matches(self.pattern, facts.snapshot.referrer)

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"referrer matches {describe_pattern(self.pattern)}"


def _conditions(values: Iterable[Condition]) -> tuple[Condition, ...]:
    items = tuple(values)
    for item in items:
        if not isinstance(item, Condition):
            raise TypeError(f"not a condition: {item!r}")
    return items


def _condition(value: Condition) -> Condition:
    return _conditions((value,))[0]


@attrs.frozen
class _Combination(Condition):
    """Inner conditions joined by a word; subclasses say how they combine."""

    JOIN: ClassVar[str] = ""
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)

    def changes(self, facts: VisitorFacts) -> Iterator[datetime]:
        """Every inner condition's change instants."""
        for condition in self.conditions:
            yield from condition.changes(facts)

    def needs_agents(self) -> bool:
        """Whether any inner condition needs agents."""
        return any(c.needs_agents() for c in self.conditions)

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return "(" + f" {self.JOIN} ".join(c.describe() for c in self.conditions) + ")"


@attrs.frozen
class All(_Combination):
    """Every inner condition holds (true when there are none)."""

    JOIN: ClassVar[str] = "and"

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return all(c.holds(facts) for c in self.conditions)


@attrs.frozen
class Any(_Combination):
    """At least one inner condition holds."""

    JOIN: ClassVar[str] = "or"

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return any(c.holds(facts) for c in self.conditions)


@attrs.frozen
class Not(Condition):
    """The inner condition does not hold."""

    condition: Condition = attrs.field(converter=_condition)

    def holds(self, facts: VisitorFacts) -> bool:
        """See the class docstring."""
        return not self.condition.holds(facts)

    def changes(self, facts: VisitorFacts) -> Iterator[datetime]:
        """The inner condition's change instants."""
        return self.condition.changes(facts)

    def needs_agents(self) -> bool:
        """Whether the inner condition needs agents."""
        return self.condition.needs_agents()

    def describe(self) -> str:
        """See :meth:`Condition.describe`."""
        return f"not {self.condition.describe()}"
