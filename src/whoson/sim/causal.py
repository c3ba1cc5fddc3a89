"""A causal model of what invitations do, with a known answer.

With ``SimConfig(causal=CausalModel(...))`` the simulator decides, at a
visitor's first *exposure* to an inviting rule (the rule would invite them),
whether the visitor orders within ``window`` of it:

* the visitor is in the rule's control group exactly as the rules engine
  would decide (:func:`whoson.rules.model.in_holdout` with ``holdout[rule]``):
  a ``holdout`` event is recorded and nothing is shown; otherwise the usual
  auto message and ``auto`` request follow;
* the visitor orders within the window with probability
  ``base_chance(...) + lift[rule]`` if invited, ``base_chance(...)`` if held
  out. ``base_chance`` depends only on what the live view shows of the
  visitor at that moment (cart, returning, page, device, pages viewed), so
  a model fitted on the history can learn it;
* the shop's own walk then places no other order for that visitor within
  the window, and a visitor is exposed at most once.

So the true lift of each rule (the difference of the two arms' chances to
convert, averaged over the exposed visitors) is exactly ``lift[rule]``: the
experiments section of a report on such a log should find it inside its
interval about 95% of the time.

>>> model = CausalModel(lift={"checkout-help": 0.1})
>>> round(model.base_chance(cart=True, returning=False, checkout=True, mobile=False, pages=4), 4)
0.5744
>>> CausalModel(lift={"x": 0.5})
Traceback (most recent call last):
...
ValueError: lift['x'] must lie in [-0.4, 0.4] (max_base 0.6), got 0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import attrs

__all__ = ["DEFAULT_LIFT", "CausalModel"]

DEFAULT_LIFT: Mapping[str, float] = MappingProxyType({"checkout-help": 0.10, "help-linger": 0.04})


def _frozen(value: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class CausalModel:
    """The true effects the simulator builds in (see the module doc).

    ``lift``: per rule (trigger), the true difference in the chance to order
    within ``window`` between invited and held-out visitors. ``holdout``: per
    rule, the control-group fraction (default 0.5 for every rule in
    ``lift``). ``max_base`` caps the base chance so ``base + lift`` stays a
    probability; the logit weights say how much each live-row feature moves
    the base chance.
    """

    lift: Mapping[str, float] = attrs.field(default=DEFAULT_LIFT, converter=_frozen)
    holdout: Mapping[str, float] | None = None
    window: timedelta = timedelta(days=7)
    max_base: float = 0.6
    intercept: float = -2.4
    cart: float = 1.6
    returning: float = 0.8
    checkout: float = 0.5
    mobile: float = -0.7
    per_page: float = 0.15

    def __attrs_post_init__(self) -> None:
        if not 0 < self.max_base < 1:
            raise ValueError(f"max_base must lie in (0, 1), got {self.max_base}")
        room = round(1 - self.max_base, 12)
        for rule, lift in self.lift.items():
            if not -room <= lift <= room:
                raise ValueError(f"lift[{rule!r}] must lie in [-{room}, {room}] "
                                 f"(max_base {self.max_base}), got {lift}")
        for rule, fraction in (self.holdout or {}).items():
            if not 0 <= fraction <= 0.5:
                raise ValueError(f"holdout[{rule!r}] must lie in [0, 0.5], got {fraction}")

    def holdout_of(self, rule: str) -> float:
        """The control-group fraction of ``rule`` (0.5 for a rule with a lift, else 0)."""
        if self.holdout is not None:
            return self.holdout.get(rule, 0.0)
        return 0.5 if rule in self.lift else 0.0

    def base_chance(self, *, cart: bool, returning: bool, checkout: bool, mobile: bool,
                    pages: int) -> float:
        """The chance to order within the window without an invitation."""
        logit = (self.intercept + self.cart * cart + self.returning * returning
                 + self.checkout * checkout + self.mobile * mobile
                 + self.per_page * min(pages, 10))
        return min(self.max_base, 1 / (1 + math.exp(-logit)))

    def chance(self, rule: str, invited: bool, **features: Any) -> float:
        """The chance to order within the window, given the arm."""
        return self.base_chance(**features) + (self.lift.get(rule, 0.0) if invited else 0.0)
