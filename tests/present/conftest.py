"""Fixtures for the presentation tests: a simulated shop, and a headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from whoson import FixedClock, Tracker
from whoson.codec import dumps
from whoson.sim import simulate

# Where screenshots go: $WHOSON_ARTIFACTS, else test-artifacts/ at the repository root.
ARTIFACTS = Path(os.environ.get("WHOSON_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
SIM_AS_OF = datetime(2026, 3, 8, 20, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sim_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded week of a simulated shop (about 4,500 events) as a JSON Lines log."""
    path = tmp_path_factory.mktemp("sim") / "shop.jsonl"
    with path.open("w") as stream:
        for event in simulate(visitors=200, days=7, seed=11):
            stream.write(dumps(event) + "\n")
    return path


@pytest.fixture(scope="session")
def sim_tracker(sim_log: Path) -> Iterator[Tracker]:
    """A tracker holding the simulated week, its clock on the last evening (Berlin time)."""
    tracker = Tracker(clock=FixedClock(SIM_AS_OF), tz="Europe/Berlin")
    result = tracker.load(sim_log)
    assert result.rejected == 0
    yield tracker
    tracker.close()


@pytest.fixture
def chromium(browser: Any) -> Any:
    """The shared headless Chromium of tests/conftest.py."""
    return browser


def artifact(name: str) -> Path:
    """A path under the artifacts directory (created)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
