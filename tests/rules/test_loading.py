"""Loading rules from TOML and JSON files, and the errors bad files give."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from whoson.core.errors import ConfigError
from whoson.rules import (
    AgentsOnline,
    All,
    Any,
    CartValueAtLeast,
    CountryIn,
    CustomerKnown,
    DeviceIn,
    HasOrdered,
    HasSignal,
    Invite,
    Limits,
    Not,
    NotInChat,
    ReferrerMatches,
    Returning,
    Rule,
    ShowMessage,
    TimeOnPage,
    UrlMatches,
    VisitedInOrder,
    load_rules,
    parse_duration,
    rules_from_data,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "rules.toml"

EXPECTED = (
    Rule("checkout-help",
         [UrlMatches("*/checkout*"), TimeOnPage(60), NotInChat(), AgentsOnline(1)],
         Invite("text", "Stuck at checkout? We're here to help.", "/help/payment")),
    Rule("funnel-question", [VisitedInOrder(("*/product/*", "*/cart*", "*/checkout*"))],
         ShowMessage("Questions about your order? Ask us.")),
    Rule("pricing-walkthrough",
         [UrlMatches(re.compile("^/pricing(/|$)")), HasSignal("lingering"), Returning(True)],
         Invite("video", "Want a quick walkthrough of our plans?"),
         limits=Limits(once_per_session=False, cooldown=timedelta(minutes=10),
                       rate_per_minute=5)),
    Rule("vip-cart",
         [CustomerKnown(True), HasOrdered(True), CartValueAtLeast(Decimal(200)),
          Any((All((CountryIn(["de", "at", "ch"]),)), All((DeviceIn(["desktop"]),)))),
          Not(All((ReferrerMatches("*partner.example*"),)))],
         ShowMessage("Free express shipping on this order."), enabled=False),
)


class TestExampleFile:
    """examples/rules.toml loads into the rules it describes."""

    def test_toml(self) -> None:
        expected = EXPECTED
        assert expected == load_rules(EXAMPLE)

    def test_json_with_the_same_content(self, tmp_path: Path) -> None:
        import tomllib

        data = tomllib.loads(EXAMPLE.read_text())
        path = tmp_path / "rules.json"
        path.write_text(json.dumps(data))
        expected = EXPECTED
        assert expected == load_rules(path)

    def test_a_bare_list_is_accepted(self) -> None:
        rules = rules_from_data([{"name": "x", "action": {"type": "message", "message": "m"}}])
        expected = (Rule("x", [], ShowMessage("m")),)
        assert expected == rules


def bad(when: object = None, **entry: object) -> dict[str, object]:
    rule: dict[str, object] = {"name": "r1", "action": {"type": "message", "message": "hi"}}
    if when is not None:
        rule["when"] = when
    rule.update(entry)
    return {"rules": [rule]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bad({"time_on_pag": 5}), "rule 'r1': when.time_on_pag: unknown condition; known: url"),
        (bad({"time_on_page": "soon"}), "rule 'r1': when.time_on_page: must be a number of "
                                        "seconds or a duration"),
        (bad({"url": {"regex": "("}}), "rule 'r1': when.url: invalid regex '('"),
        (bad({"url": 5}), "rule 'r1': when.url: must be a glob string or a table"),
        (bad({"pages_viewed": 0}), "rule 'r1': when.pages_viewed: must be an integer >= 1"),
        (bad({"signal": "bored"}), "rule 'r1': when.signal: unknown signal 'bored'"),
        (bad({"not_in_chat": False}), "rule 'r1': when.not_in_chat: must be true"),
        (bad({"returning": "yes"}), "rule 'r1': when.returning: must be true or false"),
        (bad({"cart_value": "lots"}), "rule 'r1': when.cart_value: must be an amount"),
        (bad({"country_in": []}), "rule 'r1': when.country_in: must be a string or a list"),
        (bad({"visited_in_order": []}), "rule 'r1': when.visited_in_order: must be a non-empty"),
        (bad({"any": [{"urll": "/"}]}), "rule 'r1': when.any[0].urll: unknown condition"),
        (bad({"not": {"url": 3}}), "rule 'r1': when.not.url: must be a glob string"),
        (bad(colour="red"), "rule 'r1': colour: unknown key; known: name, enabled"),
        (bad(enabled="no"), "rule 'r1': enabled: must be true or false"),
        (bad(action={"type": "popup", "message": "x"}), "rule 'r1': action.type: must be "
                                                        "'invite' or 'message'"),
        (bad(action={"type": "invite", "channel": "fax", "message": "x"}),
         "rule 'r1': action.channel: must be 'text' or 'video'"),
        (bad(action={"type": "message"}), "rule 'r1': action.message: required"),
        (bad(action={"type": "message", "message": "x", "channel": "text"}),
         "rule 'r1': action.channel: unknown key for 'message'"),
        (bad(limits={"cooldown": "0s"}), "rule 'r1': limits.cooldown: must be positive"),
        (bad(limits={"rate_per_minute": 1.5}), "rule 'r1': limits.rate_per_minute: must be an "
                                               "integer >= 1"),
        (bad(limits={"per_day": 3}), "rule 'r1': limits.per_day: unknown key"),
        ({"rules": [{"action": {}}]}, "rule #1: name: required"),
        ({"rules": [{"name": "x"}]}, "rule 'x': action: required"),
        ({"rules": [{"name": "x", "action": {"type": "message", "message": "m"}}] * 2},
         "rule 'x': name used twice"),
        ({"rule": []}, "unknown top-level key 'rule'; expected 'rules'"),
        ({"rules": {"name": "x"}}, "'rules' must be a list"),
    ],
)
def test_errors_name_the_rule_and_the_key(data: object, message: str) -> None:
    """Every problem is a ConfigError naming the source, the rule and the key."""
    with pytest.raises(ConfigError) as caught:
        rules_from_data(data, source="shop.toml")
    assert str(caught.value).startswith("shop.toml: ")
    assert message in str(caught.value)


class TestFiles:
    """File-level problems: unreadable, unknown suffix, syntax errors."""

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="cannot read rules"):
            load_rules(tmp_path / "nope.toml")

    def test_unknown_suffix(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.yaml"
        path.write_text("rules: []")
        with pytest.raises(ConfigError, match=r"must be a \.toml or \.json file"):
            load_rules(path)

    def test_toml_syntax(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.toml"
        path.write_text("[[rules]\nname = 1")
        with pytest.raises(ConfigError, match=r"rules\.toml: invalid TOML"):
            load_rules(path)

    def test_json_syntax(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.json"
        path.write_text("{")
        with pytest.raises(ConfigError, match=r"rules\.json: invalid JSON"):
            load_rules(path)

    def test_json_amounts_are_exact(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.json"
        path.write_text('{"rules": [{"name": "c", "when": {"cart_value": 19.99},'
                        ' "action": {"type": "message", "message": "m"}}]}')
        expected = (CartValueAtLeast(Decimal("19.99")),)
        assert expected == load_rules(path)[0].conditions


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(90, 90), (1.5, 1.5), ("90", 90), ("90s", 90), ("10m", 600), ("1.5h", 5400), ("7d", 604800)],
)
def test_durations(text: object, seconds: float) -> None:
    """Durations are seconds or text with an s/m/h/d unit."""
    assert timedelta(seconds=seconds) == parse_duration(text)
