"""``whoson simulate``: writes the simulator's log as JSON Lines, summary on stderr."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from whoson.cli import simulate as command
from whoson.codec import dumps, loads
from whoson.sim import SimConfig, simulate
from whoson.sim.causal import CausalModel


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="whoson")
    subparsers = parser.add_subparsers(dest="command", required=True)
    command.add_parser(subparsers)
    args = parser.parse_args(["simulate", *argv])
    status: int = args.run(args)
    return status


class TestSimulateCommand:
    """The command writes exactly what simulate() yields, one JSON object per line."""

    def test_file_holds_the_simulated_log(self, tmp_path: Path) -> None:
        out = tmp_path / "log.jsonl"
        status = run(["--visitors", "40", "--days", "2", "--seed", "3", "-o", str(out)])
        expected = [dumps(e) for e in simulate(visitors=40, days=2, seed=3)]
        assert 0 == status
        assert expected == out.read_text(encoding="utf-8").splitlines()
        assert [] == [p.name for p in tmp_path.iterdir() if p.name != "log.jsonl"]

    def test_experiment_flag_builds_in_the_causal_model(self, tmp_path: Path) -> None:
        out = tmp_path / "log.jsonl"
        status = run(["--visitors", "300", "--days", "2", "--seed", "3", "--experiment",
                      "-o", str(out)])
        config = SimConfig(causal=CausalModel())
        expected = [dumps(e) for e in simulate(visitors=300, days=2, seed=3, config=config)]
        assert 0 == status
        assert expected == out.read_text(encoding="utf-8").splitlines()
        assert any(loads(line)["type"] == "holdout" for line in expected)

    def test_stdout_gets_only_events(self, capsys: pytest.CaptureFixture[str]) -> None:
        status = run(["--visitors", "10", "--days", "1", "-o", "-"])
        captured = capsys.readouterr()
        lines = captured.out.splitlines()
        assert 0 == status
        assert len(lines) == sum(1 for _ in simulate(visitors=10, days=1))
        assert all("id" in loads(line) for line in lines)
        assert f"wrote {len(lines)} events" in captured.err

    def test_start_date_moves_the_log(self, capsys: pytest.CaptureFixture[str]) -> None:
        run(["--visitors", "5", "--days", "1", "--start", "2026-07-01", "-o", "-"])
        first = loads(capsys.readouterr().out.splitlines()[0])
        assert first["ts"].startswith("2026-07-01T")

    def test_events_gives_exactly_n_lines(self, tmp_path: Path) -> None:
        out = tmp_path / "n.jsonl"
        assert 0 == run(["--events", "1500", "--seed", "8", "-o", str(out)])
        assert 1500 == len(out.read_text(encoding="utf-8").splitlines())

    @pytest.mark.parametrize(
        "argv",
        [
            ["--days", "0", "-o", "-"],
            ["--visitors", "many", "-o", "-"],
            ["--start", "2026-02-30", "-o", "-"],
            ["--visitors", "5"],
        ],
    )
    def test_bad_arguments_exit_2(self, argv: list[str]) -> None:
        with pytest.raises(SystemExit) as exit_info:
            run(argv)
        assert 2 == exit_info.value.code
