"""Rules as data: a name, conditions, an action and limits.

>>> from whoson.rules.conditions import TimeOnPage, UrlMatches
>>> rule = Rule("checkout-help", [UrlMatches("*/checkout*"), TimeOnPage(60)],
...             Invite("text", "Need a hand with checkout?"))
>>> rule.limits
Limits(once_per_session=True, cooldown=None, rate_per_minute=None)
>>> rule.describe()
'checkout-help: when url matches */checkout* and time on page >= 60s: invite (text)'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta

import attrs

from whoson.core.time import parse_duration
from whoson.rules.conditions import Condition

__all__ = ["Action", "Invite", "Limits", "Rule", "ShowMessage", "in_holdout"]

# Fired event ids are "rule:<name>:<visitor>:<micros>:<kind>"; keep room for the rest.
MAX_RULE_NAME = 100


def _optional_duration(value: timedelta | float | int | None) -> timedelta | None:
    if value is None:
        return None
    duration = parse_duration(value)
    if duration <= timedelta(0):
        raise ValueError(f"cooldown must be positive, got {duration}")
    return duration


def _optional_rate(_instance: object, _attribute: attrs.Attribute[int | None],
                   value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"rate_per_minute must be an integer >= 1, got {value!r}")


@attrs.frozen
class Limits:
    """How often a rule may fire.

    ``once_per_session``: at most once per visitor per session (the default).
    ``cooldown``: at least this long between two firings for one visitor.
    ``rate_per_minute``: at most this many firings of the rule, all visitors
    together, in any 60 s window.
    """

    once_per_session: bool = True
    cooldown: timedelta | None = attrs.field(default=None, converter=_optional_duration)
    rate_per_minute: int | None = attrs.field(default=None, validator=_optional_rate)


def _text(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{attribute.name} must be a non-empty string, got {value!r}")


def _link(_instance: object, _attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError(f"link must be a non-empty string or None, got {value!r}")


def _channel(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ("text", "video"):
        raise ValueError(f"channel must be 'text' or 'video', got {value!r}")


@attrs.frozen
class Invite:
    """Invite the visitor to chat: an ``auto_message`` plus a ``request`` (initiator ``auto``).

    An invitation is never sent to a visitor who is in a conversation or has a
    pending request, whatever the rule's conditions say.
    """

    channel: str = attrs.field(validator=_channel)
    message: str = attrs.field(validator=_text)
    link: str | None = attrs.field(default=None, validator=_link)


@attrs.frozen
class ShowMessage:
    """Show an automatic message only (an ``auto_message`` event)."""

    message: str = attrs.field(validator=_text)
    link: str | None = attrs.field(default=None, validator=_link)


Action = Invite | ShowMessage


def _conditions(values: Iterable[Condition]) -> tuple[Condition, ...]:
    items = tuple(values)
    for item in items:
        if not isinstance(item, Condition):
            raise TypeError(f"not a condition: {item!r}")
    return items


def _name(_instance: object, _attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"a rule name must be a non-empty string, got {value!r}")
    if len(value) > MAX_RULE_NAME:
        raise ValueError(f"a rule name must be at most {MAX_RULE_NAME} characters: {value!r}")


def _action(_instance: object, _attribute: attrs.Attribute[Action], value: Action) -> None:
    if not isinstance(value, (Invite, ShowMessage)):
        raise TypeError(f"a rule's action must be Invite or ShowMessage, got {value!r}")


def _holdout(instance: object, _attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 0.5:
        rule = getattr(instance, "name", None)
        raise ValueError(f"rule {rule!r}: holdout must be a fraction in [0, 0.5], got {value!r}")


def in_holdout(rule: str, visitor: str, holdout: float) -> bool:
    """Whether ``visitor`` is in the control group of the rule named ``rule``.

    ``sha256(rule + "\\x00" + visitor)`` read as a big-endian integer, over
    2**256, is below ``holdout``: a fixed, reproducible coin per rule and
    visitor, the same in every process and replay. O(len(rule) + len(visitor)).

    >>> in_holdout("checkout-help", "v2", 0.5), in_holdout("checkout-help", "v1", 0.5)
    (True, False)
    >>> in_holdout("checkout-help", "v1", 0)
    False
    """
    if holdout <= 0:
        return False
    # surrogatepass: a lone surrogate (not UTF-8) must not crash a rule; UTF-8 text is unchanged.
    digest = hashlib.sha256((rule + "\x00" + visitor).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest, "big") / 2**256 < holdout


@attrs.frozen
class Rule:
    """An engagement rule: when every condition holds, do ``action``, within ``limits``.

    ``name`` is unique among an engine's rules and becomes the ``trigger`` of
    the events it fires (at most 100 characters; the event contract caps ids at
    200 and fired ids add the visitor and instant to it).

    ``holdout`` (a fraction in [0, 0.5], default 0) keeps a control group:
    for a visitor :func:`in_holdout` puts in it, the rule records a
    ``holdout`` event instead of its action, counted for the limits exactly
    like a firing (docs/experiments.md).
    """

    name: str = attrs.field(validator=_name)
    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions)
    action: Action = attrs.field(validator=_action)
    enabled: bool = True
    limits: Limits = attrs.field(factory=Limits)
    holdout: float = attrs.field(default=0.0, validator=_holdout)

    def describe(self) -> str:
        """One line: name, conditions, action and control group (if any)."""
        when = " and ".join(c.describe() for c in self.conditions) or "always"
        action = self.action
        what = f"invite ({action.channel})" if isinstance(action, Invite) else "show message"
        held = f", holding out {self.holdout * 100:g}%" if self.holdout > 0 else ""
        return f"{self.name}: when {when}: {what}{held}"

