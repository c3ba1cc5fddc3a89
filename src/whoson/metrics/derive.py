"""Small derivations shared by the metric families: means, rates, bag expansions."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from whoson.metrics.params import percentile, ratio
from whoson.metrics.tally import Tally

__all__ = [
    "CHANNELS",
    "INITIATORS",
    "accepted",
    "acceptance",
    "decided",
    "expand",
    "integers",
    "mean_of",
    "minutes",
    "quantiles",
    "requests_by",
    "seconds",
]

INITIATORS = ("visitor", "agent", "auto")
CHANNELS = ("text", "video")
_MICROS_PER_SECOND = 1_000_000
_MICROS_PER_MINUTE = 60_000_000


def mean_of(total: int | float, count: int | float) -> float | None:
    """``total / count`` or ``None`` when nothing was counted."""
    return total / count if count else None


def seconds(total_micros: int, count: int) -> float | None:
    """Mean duration in seconds from a microsecond sum (exact until the final division)."""
    return total_micros / (count * _MICROS_PER_SECOND) if count else None


def minutes(total_micros: int, count: int) -> float | None:
    """Mean duration in minutes from a microsecond sum."""
    return total_micros / (count * _MICROS_PER_MINUTE) if count else None


def requests_by(tally: Tally, initiator: str) -> int:
    """Requests of one initiator, both channels."""
    return int(sum(tally.number(("req", channel, initiator)) for channel in CHANNELS))


def decided(tally: Tally, initiator: str) -> int:
    """Requests of one initiator that are not pending."""
    return requests_by(tally, initiator) - int(tally.number(("pend", initiator)))


def accepted(tally: Tally, initiator: str) -> int:
    """Decided requests of one initiator whose other side responded."""
    return int(tally.number(("other", initiator))) - int(tally.number(("pend_other", initiator)))


def acceptance(tally: Tally, initiator: str) -> float | None:
    """Accepted / decided for one initiator."""
    return ratio(accepted(tally, initiator), decided(tally, initiator))


def integers(bag: Mapping[Hashable, int]) -> dict[int, int]:
    """A bag whose members are integers (microsecond durations), typed as such."""
    return {member: times for member, times in bag.items() if isinstance(member, int)}


def expand(bag: Mapping[int, int]) -> list[int]:
    """A bag of numbers as a list, each member repeated by its multiplicity."""
    values: list[int] = []
    for member, times in bag.items():
        values.extend([member] * times)
    return values


def quantiles(values: Iterable[float], *qs: float) -> list[float | None]:
    """Several quantiles of ``values`` with linear interpolation."""
    ordered = sorted(values)
    return [percentile(ordered, q) for q in qs]
