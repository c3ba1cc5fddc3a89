"""The runnable examples keep working."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_live_backend(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/live_backend.py fires its rules on time and lists who is on."""
    runpy.run_path(str(EXAMPLES / "live_backend.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    # v-ana: /product at 20 s, /cart at 50 s, /checkout at 70 s; 60 s later, checkout help.
    expected = [
        "[ 1m10s] rule 'funnel-question' -> v-ana: Questions about your order? Ask us.",
        "[ 2m10s] rule 'checkout-help' -> v-ana: Stuck at checkout? We're here to help.",
    ]
    assert expected == lines[:2]
    expected = "Who's on at 2026-03-02T14:03:00Z: 4 visitor(s)"
    assert expected == lines[3]
    # One answered request (15 s) and one waiting, one agent: 15 * (1 + 1/1).
    expected = "Agents online: ['ann']; expected wait: 30s"
    assert expected == lines[-1]
    expected = "Waiting: [('v-dan', '30s')]"
    assert expected == lines[-2]
