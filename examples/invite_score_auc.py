"""Measure the invite_score model's AUC on held-out days of a simulated log.

    PYTHONPATH=src python examples/invite_score_auc.py [VISITORS] [DAYS] [SEED]

Simulates a shop with the causal model (conversion depends on live-row
features and on invitations), fits the model on the exposures of all but
the last 3 days, and prints the AUC on those last 3 days (held out from
fitting) and on the fitting days. docs/experiments.md quotes
``20000 14 11``.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from whoson.core.parsing import parse_event
from whoson.live.scoring import auc, examples_from_events, fit_invite_model
from whoson.sim import SimConfig, simulate
from whoson.sim.causal import CausalModel
from whoson.sim.engine import DEFAULT_START


def main(visitors: int = 20_000, days: int = 14, seed: int = 11) -> None:
    """Print the held-out and in-sample AUC."""
    config = SimConfig(causal=CausalModel())
    events = [parse_event(e) for e in simulate(visitors=visitors, days=days, seed=seed,
                                                config=config)]
    window = timedelta(days=1)
    examples = examples_from_events(events, window=window)
    start = datetime.combine(DEFAULT_START, datetime.min.time(), tzinfo=UTC)
    cut = start + timedelta(days=days - 3)
    train = [e for e in examples if e[0] + window <= cut]
    test = [e for e in examples if e[0] >= cut]
    model = fit_invite_model([v for _, v, _ in train], [y for _, _, y in train], window=window)
    if model is None:
        print("not enough history to fit")
        return
    held_out = auc([model.probability(v) for _, v, _ in test], [y for _, _, y in test])
    fitted = auc([model.probability(v) for _, v, _ in train], [y for _, _, y in train])
    print(f"events {len(events)}, exposures {len(examples)}")
    print(f"fitted on {len(train)} exposures (AUC {fitted:.3f})")
    print(f"held out: {len(test)} exposures, {sum(y for _, _, y in test)} bought, "
          f"AUC {held_out:.3f}")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:4]))
