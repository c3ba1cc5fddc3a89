"""Loading rules from TOML or JSON files (or already decoded data).

A file holds a list ``rules``; each rule is a table with ``name``,
optional ``enabled`` (default true), ``when`` (conditions, all must hold),
``action``, optional ``limits`` and optional ``holdout`` (the control-group
fraction in [0, 0.5], default 0)::

    [[rules]]
    name = "checkout-help"
    holdout = 0.2
    [rules.when]
    url = "*/checkout*"
    time_on_page = "60s"
    agents_online = 1
    [rules.action]
    type = "invite"
    channel = "text"
    message = "Need a hand with checkout?"
    [rules.limits]
    cooldown = "10m"

Condition keys of ``when``: ``url``, ``referrer`` (a glob string or
``{regex = "..."}``), ``time_on_page``, ``time_on_site`` (seconds or ``"90s"``,
``"2m"``, ``"1h"``), ``pages_viewed``, ``page_visits``, ``agents_online``
(integers >= 1), ``visited_in_order`` (list of patterns), ``returning``,
``customer_known``, ``has_ordered`` (booleans: false asks for the opposite),
``cart_value`` (amount, >=), ``country_in``, ``device_in`` (list of strings),
``signal`` (a signal name or a list of names, all required), ``not_in_chat``
(must be true), and the combinators ``all`` / ``any`` (lists of ``when``
tables) and ``not`` (one ``when`` table, negated as a whole).

Every problem raises :class:`~whoson.core.errors.ConfigError` naming the file,
the rule and the key.

>>> rules = rules_from_data({"rules": [{"name": "hi", "when": {"time_on_site": "2m"},
...                          "action": {"type": "message", "message": "Hello!"}}]})
>>> rules[0].describe()
'hi: when time on site >= 120s: show message'
>>> rules_from_data({"rules": [{"name": "hi", "when": {"time_on_sit": 5},
...                              "action": {"type": "message", "message": "Hello!"}}]})
Traceback (most recent call last):
...
whoson.core.errors.ConfigError: <data>: rule 'hi': when.time_on_sit: unknown condition; known: ...
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from whoson.core.errors import ConfigError
from whoson.core.time import parse_duration
from whoson.live.patterns import UrlPattern, pattern_from_data
from whoson.live.signals import SIGNALS
from whoson.rules import conditions as c
from whoson.rules import visitor_conditions as vc
from whoson.rules.model import Action, Invite, Limits, Rule, ShowMessage

__all__ = ["load_rules", "parse_duration", "rules_from_data"]

def _duration(value: Any) -> timedelta:
    """A condition's or a cooldown's duration: :func:`parse_duration`, and not negative."""
    duration = parse_duration(value)
    if duration < timedelta(0):
        raise ConfigError("must be >= 0")
    return duration


def load_rules(path: str | os.PathLike[str]) -> tuple[Rule, ...]:
    """Read rules from a ``.toml`` or ``.json`` file."""
    name = os.fspath(path)
    suffix = os.path.splitext(name)[1].lower()
    try:
        with open(name, "rb") as handle:
            raw = handle.read()
    except OSError as err:
        raise ConfigError(f"{name}: cannot read rules: {err.strerror or err}") from None
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif suffix == ".json":
            data = json.loads(raw.decode("utf-8"), parse_float=Decimal)
        else:
            raise ConfigError(f"{name}: rules must be a .toml or .json file")
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: must be UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{name}: invalid TOML: {err}") from None
    except json.JSONDecodeError as err:
        raise ConfigError(f"{name}: invalid JSON: {err}") from None
    return rules_from_data(data, source=name)


def rules_from_data(data: Any, *, source: str = "<data>") -> tuple[Rule, ...]:
    """Build rules from decoded data: ``{"rules": [...]}`` or the list itself."""
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"rules"})
        if unknown:
            raise ConfigError(f"{source}: unknown top-level key {unknown[0]!r}; expected 'rules'")
        data = data.get("rules", [])
    if not isinstance(data, list):
        raise ConfigError(f"{source}: 'rules' must be a list of rule tables")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, entry in enumerate(data, start=1):
        rule = _rule(entry, source, index)
        if rule.name in seen:
            raise ConfigError(f"{source}: rule {rule.name!r}: name used twice; must be unique")
        seen.add(rule.name)
        rules.append(rule)
    return tuple(rules)


_RULE_KEYS = ("name", "enabled", "when", "action", "limits", "holdout")


def _rule(entry: Any, source: str, index: int) -> Rule:
    where = f"{source}: rule #{index}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: name: required, a non-empty string")
    where = f"{source}: rule {name!r}"
    for key in entry:
        if key not in _RULE_KEYS:
            raise ConfigError(f"{where}: {key}: unknown key; known: {', '.join(_RULE_KEYS)}")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled: must be true or false")
    when = entry.get("when", {})
    conditions = _when(when, where, "when")
    if "action" not in entry:
        raise ConfigError(f"{where}: action: required")
    action = _action(entry["action"], where)
    limits = _limits(entry.get("limits", {}), where)
    holdout = entry.get("holdout", 0)
    if isinstance(holdout, Decimal):
        holdout = float(holdout)
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout <= 0.5:
        raise ConfigError(f"{where}: holdout: must be a fraction in [0, 0.5] (got {holdout!r})")
    try:
        return Rule(name, conditions, action, enabled=enabled, limits=limits, holdout=holdout)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: must be a table")
    return value


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be an integer >= 1 (got {value!r})")
    return value


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"must be an amount (got {value!r})")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        raise ValueError(f"must be an amount (got {value!r})") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"must be an amount >= 0 (got {value!r})")
    return amount


def _names(value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(
        isinstance(item, str) and item for item in items
    ):
        raise ValueError(f"must be a string or a list of strings (got {value!r})")
    return items


def _signals(value: Any) -> c.Condition:
    names = _names(value)
    for name in names:
        if name not in SIGNALS:
            raise ValueError(f"unknown signal {name!r}; known: {', '.join(SIGNALS)}")
    if len(names) == 1:
        return vc.HasSignal(names[0])
    return c.All(tuple(vc.HasSignal(name) for name in names))


def _not_in_chat(value: Any) -> c.Condition:
    if value is not True:
        raise ValueError("must be true (leave it out to allow visitors in chat)")
    return vc.NotInChat()


_Reader = Callable[[Any, str], c.Condition]


def _simple(build: Callable[[Any], c.Condition]) -> _Reader:
    def read(value: Any, where: str) -> c.Condition:
        try:
            return build(value)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where}: {err}") from None

    return read


def _patterns(value: Any, where: str) -> tuple[UrlPattern, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: must be a non-empty list of url patterns")
    return tuple(pattern_from_data(item, f"{where}[{i}]") for i, item in enumerate(value))


_CONDITIONS: dict[str, _Reader] = {
    "url": lambda v, w: c.UrlMatches(pattern_from_data(v, w)),
    "referrer": lambda v, w: c.ReferrerMatches(pattern_from_data(v, w)),
    "time_on_page": _simple(lambda v: c.TimeOnPage(_duration(v))),
    "time_on_site": _simple(lambda v: c.TimeOnSite(_duration(v))),
    "pages_viewed": _simple(lambda v: c.PagesViewedAtLeast(_count(v))),
    "page_visits": _simple(lambda v: c.PageVisitsAtLeast(_count(v))),
    "visited_in_order": lambda v, w: c.VisitedInOrder(_patterns(v, w)),
    "returning": _simple(lambda v: vc.Returning(_bool(v))),
    "customer_known": _simple(lambda v: vc.CustomerKnown(_bool(v))),
    "cart_value": _simple(lambda v: vc.CartValueAtLeast(_amount(v))),
    "has_ordered": _simple(lambda v: vc.HasOrdered(_bool(v))),
    "country_in": _simple(lambda v: vc.CountryIn(_names(v))),
    "device_in": _simple(lambda v: vc.DeviceIn(_names(v))),
    "signal": _simple(_signals),
    "not_in_chat": _simple(_not_in_chat),
    "agents_online": _simple(lambda v: vc.AgentsOnline(_count(v))),
}
_COMBINATORS = ("all", "any", "not")


def _when(value: Any, where: str, path: str) -> tuple[c.Condition, ...]:
    table = _table(value, f"{where}: {path}")
    out: list[c.Condition] = []
    for key, raw in table.items():
        at = f"{where}: {path}.{key}"
        if key in ("all", "any"):
            if not isinstance(raw, list) or not raw:
                raise ConfigError(f"{at}: must be a non-empty list of condition tables")
            parts = [
                c.All(_when(item, where, f"{path}.{key}[{i}]")) for i, item in enumerate(raw)
            ]
            out.append(c.All(tuple(parts)) if key == "all" else c.Any(tuple(parts)))
        elif key == "not":
            out.append(c.Not(c.All(_when(raw, where, f"{path}.not"))))
        elif key in _CONDITIONS:
            out.append(_CONDITIONS[key](raw, at))
        else:
            known = ", ".join((*_CONDITIONS, *_COMBINATORS))
            raise ConfigError(f"{at}: unknown condition; known: {known}")
    return tuple(out)


_ACTION_KEYS = {"invite": ("type", "channel", "message", "link"),
                "message": ("type", "message", "link")}


def _action(value: Any, where: str) -> Action:
    table = _table(value, f"{where}: action")
    kind = table.get("type")
    if kind not in _ACTION_KEYS:
        raise ConfigError(f"{where}: action.type: must be 'invite' or 'message' (got {kind!r})")
    for key in table:
        if key not in _ACTION_KEYS[kind]:
            known = ", ".join(_ACTION_KEYS[kind])
            raise ConfigError(f"{where}: action.{key}: unknown key for {kind!r}; known: {known}")
    for key in ("message", "link"):
        if key in table and (not isinstance(table[key], str) or not table[key]):
            raise ConfigError(f"{where}: action.{key}: must be a non-empty string")
    if "message" not in table:
        raise ConfigError(f"{where}: action.message: required")
    if kind == "invite":
        channel = table.get("channel", "text")
        if channel not in ("text", "video"):
            raise ConfigError(f"{where}: action.channel: must be 'text' or 'video' "
                              f"(got {channel!r})")
        return Invite(channel, table["message"], table.get("link"))
    return ShowMessage(table["message"], table.get("link"))


_LIMIT_KEYS = ("once_per_session", "cooldown", "rate_per_minute")


def _limits(value: Any, where: str) -> Limits:
    table = _table(value, f"{where}: limits")
    for key in table:
        if key not in _LIMIT_KEYS:
            raise ConfigError(f"{where}: limits.{key}: unknown key; known: "
                              f"{', '.join(_LIMIT_KEYS)}")
    try:
        once = _bool(table.get("once_per_session", True))
    except ValueError as err:
        raise ConfigError(f"{where}: limits.once_per_session: {err}") from None
    cooldown: timedelta | None = None
    if "cooldown" in table:
        try:
            cooldown = _duration(table["cooldown"])
        except ValueError as err:
            raise ConfigError(f"{where}: limits.cooldown: {err}") from None
        if cooldown <= timedelta(0):
            raise ConfigError(f"{where}: limits.cooldown: must be positive")
    rate: int | None = None
    if "rate_per_minute" in table:
        try:
            rate = _count(table["rate_per_minute"])
        except ValueError as err:
            raise ConfigError(f"{where}: limits.rate_per_minute: {err}") from None
    return Limits(once, cooldown, rate)
