"""Small derivations shared by the metric families: means, durations, quantiles."""

from __future__ import annotations

from whoson.metrics.params import rank_quantile
from whoson.metrics.tally import Ranked

__all__ = [
    "CHANNELS",
    "INITIATORS",
    "mean_of",
    "minutes",
    "quantiles",
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


def quantiles(ranked: Ranked, *qs: float, scale: int = 1) -> list[float | None]:
    """Several quantiles of an integer multiset, each member divided by ``scale`` first."""
    return [rank_quantile(ranked.count, q, lambda rank: ranked.at(rank) / scale) for q in qs]
