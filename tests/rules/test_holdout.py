"""Holdout groups: deterministic assignment, the ``holdout`` event, limits, loading."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.live.helpers import at
from tests.rules.harness import Harness
from whoson import FixedClock, Tracker
from whoson.core.errors import ConfigError
from whoson.core.events import HoldoutEvent
from whoson.rules import Invite, Limits, Rule, UrlMatches, load_rules, rules_from_data
from whoson.rules.engine import fired_id
from whoson.rules.model import in_holdout


def by_hand(rule: str, visitor: str) -> float:
    """The contract's coin: sha256(rule NUL visitor), big-endian, over 2**256."""
    digest = hashlib.sha256(f"{rule}\x00{visitor}".encode()).digest()
    return int.from_bytes(digest, "big") / 2**256


def checkout_rule(holdout: float, limits: Limits | None = None) -> Rule:
    return Rule("checkout-help", [UrlMatches("/checkout")], Invite("text", "Need a hand?"),
                limits=limits or Limits(), holdout=holdout)


class TestAssignment:
    """Membership is the hash coin below the fraction, the same everywhere."""

    def test_hand_computed_coins(self) -> None:
        # Computed once by hand with hashlib (rounded to 4 digits):
        # v1 0.9089, v2 0.3304, v3 0.9395, v4 0.2146, v5 0.0043.
        expected = {"v1": 0.9089, "v2": 0.3304, "v3": 0.9395, "v4": 0.2146, "v5": 0.0043}
        assert expected == {v: round(by_hand("checkout-help", v), 4) for v in expected}

    def test_fraction_threshold(self) -> None:
        expected = {"v4", "v5"}
        assert expected == {v for v in ("v1", "v2", "v3", "v4", "v5")
                            if in_holdout("checkout-help", v, 0.25)}
        expected = {"v2", "v4", "v5"}
        assert expected == {v for v in ("v1", "v2", "v3", "v4", "v5")
                            if in_holdout("checkout-help", v, 0.5)}

    def test_a_lone_surrogate_does_not_crash_the_coin(self) -> None:
        # Not UTF-8, so the coin hashes its surrogatepass bytes (valid text is unaffected).
        digest = hashlib.sha256("r\x00\ud800x".encode("utf-8", "surrogatepass")).digest()
        expected = int.from_bytes(digest, "big") / 2**256 < 0.5
        assert expected == in_holdout("r", "\ud800x", 0.5)

    def test_zero_holds_nobody_out(self) -> None:
        assert not any(in_holdout("checkout-help", f"v{i}", 0) for i in range(200))


class TestEngine:
    """A held-out visitor gets one ``holdout`` event instead of the invitation."""

    def test_held_out_visitors_see_nothing(self) -> None:
        h = Harness([checkout_rule(0.25)])
        for number in range(1, 6):
            h("page_view", number, visitor=f"v{number}", url="/checkout")
        held = sorted(e.visitor or "" for e in h.fired if isinstance(e, HoldoutEvent))
        invited = sorted(e.visitor or "" for e in h.fired if e.type == "request")
        assert ["v4", "v5"] == held
        assert ["v1", "v2", "v3"] == invited
        expected = {"v1", "v2", "v3"}
        assert expected == {e.visitor for e in h.fired if e.type == "auto_message"}

    def test_event_id_and_fields(self) -> None:
        h = Harness([checkout_rule(0.25)])
        h("page_view", 7, visitor="v5", url="/checkout")
        (event,) = h.fired
        assert isinstance(event, HoldoutEvent)
        expected = (f"{fired_id('checkout-help', 'v5', at(7))}:holdout", "checkout-help",
                    "/checkout", at(7))
        assert expected == (event.id, event.trigger, event.url, event.ts)

    def test_holdout_counts_once_per_session(self) -> None:
        h = Harness([checkout_rule(0.25)])
        h("page_view", 0, visitor="v5", url="/checkout")
        h("page_view", 30, visitor="v5", url="/")
        h("page_view", 60, visitor="v5", url="/checkout")
        h("page_view", 60 + 1800, visitor="v5", url="/checkout")  # a new session
        expected = [0.0, 1860.0]
        assert expected == [(e.ts - at(0)).total_seconds() for e in h.fired]

    def test_holdout_counts_for_the_cooldown(self) -> None:
        h = Harness([checkout_rule(0.25, Limits(once_per_session=False, cooldown=300))])
        h("page_view", 0, visitor="v5", url="/checkout")
        for seconds in (100, 200, 299):
            h("heartbeat", seconds, visitor="v5")
        assert at(300) == h.engine.next_due()
        h.tick(300)
        expected = [0.0, 300.0]
        assert expected == [(e.ts - at(0)).total_seconds() for e in h.fired]

    def test_holdout_counts_for_the_rate_limit(self) -> None:
        h = Harness([checkout_rule(0.25, Limits(rate_per_minute=1))])
        h("page_view", 0, visitor="v5", url="/checkout")  # held out: uses the minute's slot
        h("page_view", 1, visitor="v1", url="/checkout")
        expected = ["holdout"]
        assert expected == [e.type for e in h.fired]
        h.tick(60)
        expected = ["holdout", "auto_message", "request"]
        assert expected == [e.type for e in h.fired]

    def test_a_restarted_engine_respects_stored_holdouts(self) -> None:
        first = Harness([checkout_rule(0.25)])
        first("page_view", 0, visitor="v5", url="/checkout")
        second = Harness([checkout_rule(0.25)])
        for event in first.log:
            second.view.apply(event)
            second.engine.observe(event)
            second.seen.add(event.id)
        second("page_view", 60, visitor="v5", url="/checkout")
        assert [] == second.fired


class TestValidation:
    """The fraction lies in [0, 0.5]; anything else is a clear error."""

    @pytest.mark.parametrize("bad", [-0.1, 0.51, 1, True, "0.2"])
    def test_python_rule(self, bad: object) -> None:
        with pytest.raises(ValueError, match=r"holdout must be a fraction in \[0, 0.5\]"):
            Rule("r", [], Invite("text", "Hi"), holdout=bad)  # type: ignore[arg-type]

    @pytest.mark.parametrize(("bad", "shown"), [(-0.1, "-0.1"), (0.6, "0.6"), ("x", "'x'")])
    def test_python_rule_names_the_rule_field_and_value(self, bad: object, shown: str) -> None:
        expected = f"rule 'checkout-help': holdout must be a fraction in [0, 0.5], got {shown}"
        with pytest.raises(ValueError, match="holdout") as caught:
            Rule("checkout-help", [], Invite("text", "Hi"), holdout=bad)  # type: ignore[arg-type]
        assert expected == str(caught.value)

    @pytest.mark.parametrize("bad", [0.7, -1, "a fifth", True])
    def test_data(self, bad: object) -> None:
        data = {"rules": [{"name": "help", "holdout": bad,
                           "action": {"type": "invite", "message": "Hi"}}]}
        with pytest.raises(ConfigError, match=r"rule 'help': holdout: must be a fraction"):
            rules_from_data(data)

    def test_toml_and_json_files(self, tmp_path: Path) -> None:
        toml = tmp_path / "rules.toml"
        toml.write_text('[[rules]]\nname = "help"\nholdout = 0.2\n'
                        '[rules.action]\ntype = "invite"\nmessage = "Hi"\n', "utf-8")
        as_json = tmp_path / "rules.json"
        as_json.write_text(json.dumps({"rules": [{"name": "help", "holdout": 0.5, "action": {
            "type": "invite", "message": "Hi"}}]}), "utf-8")
        expected = (0.2, 0.5, 0.0)
        plain = rules_from_data([{"name": "x", "action": {"type": "message", "message": "Hi"}}])
        assert expected == (load_rules(toml)[0].holdout, load_rules(as_json)[0].holdout,
                            plain[0].holdout)


class TestDescribe:
    """A rule's one-line description says that it keeps a control group."""

    def test_holdout_in_the_description(self) -> None:
        expected = "checkout-help: when url matches /checkout: invite (text), holding out 20%"
        assert expected == checkout_rule(0.2).describe()

    def test_fractions_of_a_percent_are_kept(self) -> None:
        expected = "checkout-help: when url matches /checkout: invite (text), holding out 12.5%"
        assert expected == checkout_rule(0.125).describe()

    def test_no_holdout_no_mention(self) -> None:
        expected = "checkout-help: when url matches /checkout: invite (text)"
        assert expected == checkout_rule(0).describe()


class TestTracker:
    """A tracker records the holdout event like any fired event."""

    def test_recorded_and_reported(self) -> None:
        tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)),
                          rules=[checkout_rule(0.5)])
        for visitor in ("v1", "v2"):
            tracker.record({"id": f"p-{visitor}", "type": "page_view",
                            "ts": "2026-03-02T12:00:00Z", "visitor": visitor, "url": "/checkout"})
        types = sorted((e.visitor, e.type) for e in (s.event for s in tracker.store.read())
                       if e.type in ("holdout", "request"))
        assert [("v1", "request"), ("v2", "holdout")] == types
