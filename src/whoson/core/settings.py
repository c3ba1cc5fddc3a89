"""The tracker settings the event contract depends on: the rating scale and the currency.

A survey's rating is checked against a :class:`RatingScale`; an order in a
foreign currency is converted (or refused) according to a :class:`ParseContext`.

>>> ParseContext(RatingScale.parse("0..10"), currency="EUR").rating_scale.values[-1]
10
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import attrs

__all__ = ["CurrencyConverter", "ParseContext", "RatingScale"]


@attrs.frozen
class RatingScale:
    """The closed integer range survey ratings live on (1..5 unless configured).

    >>> RatingScale.parse("0..10")
    RatingScale(low=0, high=10)
    >>> RatingScale(1, 5).values
    (1, 2, 3, 4, 5)
    """

    low: int = 1
    high: int = 5

    def __attrs_post_init__(self) -> None:
        if self.low >= self.high:
            raise ValueError(f"rating scale {self.low}..{self.high} must have low < high")
        if self.high - self.low > 100:
            raise ValueError(f"rating scale {self.low}..{self.high} has more than 101 values")

    @property
    def values(self) -> tuple[int, ...]:
        """Every value of the scale, ascending."""
        return tuple(range(self.low, self.high + 1))

    @classmethod
    def parse(cls, text: str) -> RatingScale:
        """Read ``"1..5"`` or ``"1-5"``."""
        match = re.fullmatch(r"\s*(-?\d+)\s*(?:\.\.|-)\s*(-?\d+)\s*", text)
        if match is None:
            raise ValueError(f"rating scale {text!r} must look like 1..5 or 0..10")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.low}..{self.high}"


CurrencyConverter = Callable[[Decimal, str, datetime], Decimal]


@attrs.frozen
class ParseContext:
    """The tracker settings some rules depend on.

    ``currency`` is the tracker's currency (``None``: orders must not name one
    the caller did not expect, so any is accepted and the caller fixes it);
    ``converter`` turns an amount in another currency into the tracker's.
    """

    rating_scale: RatingScale = RatingScale()
    currency: str | None = None
    converter: CurrencyConverter | None = None
