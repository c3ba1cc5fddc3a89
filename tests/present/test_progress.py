"""The progress bar of long CLI work: on a terminal's stderr only, and only once the work is slow."""

from __future__ import annotations

import io
import time

import pytest

from whoson.cli.formats import busy


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestBusy:
    """busy() draws on a terminal after a delay, never in pipes or under CI."""

    def test_slow_work_on_a_terminal(self, monkeypatch: pytest.MonkeyPatch) -> None:
        terminal = FakeTerminal()
        monkeypatch.setattr("sys.stderr", terminal)
        monkeypatch.delenv("CI", raising=False)
        with busy("reading the store", after=0.05):
            time.sleep(0.5)
        assert "reading the store" in terminal.getvalue()

    def test_quick_work_draws_nothing(self, monkeypatch: pytest.MonkeyPatch) -> None:
        terminal = FakeTerminal()
        monkeypatch.setattr("sys.stderr", terminal)
        monkeypatch.delenv("CI", raising=False)
        with busy("reading the store", after=0.5):
            pass
        assert terminal.getvalue() == ""

    @pytest.mark.parametrize("ci", [True, False])
    def test_not_in_pipes_or_ci(self, monkeypatch: pytest.MonkeyPatch, ci: bool) -> None:
        stream = FakeTerminal() if ci else io.StringIO()
        monkeypatch.setattr("sys.stderr", stream)
        if ci:
            monkeypatch.setenv("CI", "true")
        else:
            monkeypatch.delenv("CI", raising=False)
        with busy("reading the store", after=0.0):
            time.sleep(0.2)
        assert stream.getvalue() == ""
