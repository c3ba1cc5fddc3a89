"""Timing and memory helpers for the benchmark workers (Linux: /proc and getrusage)."""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Timer", "peak_rss", "repeat", "rss", "settle"]

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """Resident memory of this process now, in bytes."""
    with open("/proc/self/statm") as stat:
        return int(stat.read().split()[1]) * _PAGE


def peak_rss() -> int:
    """The highest resident memory this process has had, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def settle() -> int:
    """Collect garbage, then return the resident memory."""
    gc.collect()
    return rss()


class Timer:
    """Wall-clock seconds of a ``with`` block (``perf_counter``)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def repeat(
    action: Callable[[], Any], *, times: int = 5, budget: float = 10.0, at_least: int = 1
) -> dict[str, float | int]:
    """Run ``action`` up to ``times`` times (at least ``at_least``, within ``budget`` seconds).

    Returns the median, minimum and the number of runs. Garbage collection is
    left on: it is part of what a caller pays.
    """
    samples: list[float] = []
    spent = 0.0
    while len(samples) < times and (len(samples) < at_least or spent < budget):
        started = time.perf_counter()
        action()
        took = time.perf_counter() - started
        samples.append(took)
        spent += took
    return {"median": statistics.median(samples), "min": min(samples), "runs": len(samples)}
