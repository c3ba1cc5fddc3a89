"""The simulator's knobs: traffic shape, behaviour rates, staffing and money.

>>> SimConfig().agents, SimConfig().currency
(8, 'USD')
>>> SimConfig(agents=3).agents
3
>>> SimConfig(visitor_request_rate=1.5)
Traceback (most recent call last):
...
ValueError: visitor_request_rate must be a probability in [0, 1], got 1.5
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from whoson.sim.catalogue import AGENT_NAMES
from whoson.sim.causal import CausalModel

__all__ = ["HOURLY_WEIGHTS", "SimConfig", "WEEKDAY_WEIGHTS"]

# Relative traffic per local hour: quiet nights, a lunch bump, the evening peak.
# fmt: off
HOURLY_WEIGHTS: tuple[float, ...] = (
    0.35, 0.22, 0.14, 0.10, 0.09, 0.12, 0.25, 0.45, 0.70, 0.85, 0.95, 1.00,
    1.10, 1.05, 0.95, 0.95, 1.00, 1.10, 1.30, 1.55, 1.70, 1.60, 1.20, 0.70,
)
# fmt: on
# Monday .. Sunday: weekends are quieter overall but busier on Sunday evening.
WEEKDAY_WEIGHTS: tuple[float, ...] = (1.00, 1.02, 0.98, 1.00, 0.92, 0.78, 0.86)


def _probability(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a probability in [0, 1], got {value}")


def _positive(_: Any, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, got {value}")


def _rate(default: float) -> Any:
    return attrs.field(default=default, validator=_probability)


@attrs.frozen(kw_only=True)
class SimConfig:
    """Every tunable of :func:`whoson.sim.simulate`; the defaults give a plausible shop.

    Probabilities are per session unless the name says otherwise. Shop time is
    UTC (the reporting day is the UTC day).
    """

    currency: str = "USD"
    # Staffing: agents on the roster (the first is the escalation supervisor).
    agents: int = 8
    weekend_agents: int = 3
    agent_capacity: int = 3
    # Traffic.
    hourly_weights: tuple[float, ...] = HOURLY_WEIGHTS
    weekday_weights: tuple[float, ...] = WEEKDAY_WEIGHTS
    return_rate: float = _rate(0.30)
    session_id_share: float = _rate(0.40)
    identify_rate: float = _rate(0.35)
    # Browsing: mean pages before leaving (geometric), and dwell time scale.
    mean_pages: float = attrs.field(default=5.0, validator=_positive)
    dwell_scale: float = attrs.field(default=1.0, validator=_positive)
    heartbeat_seconds: float = attrs.field(default=30.0, validator=_positive)
    # Shopping.
    add_to_cart_rate: float = _rate(0.15)  # per product page view
    checkout_rate: float = _rate(0.40)  # from the cart to checkout
    pay_rate: float = _rate(0.60)  # from payment page to an order
    chat_conversion_boost: float = attrs.field(default=2.5, validator=_positive)
    discount_rate: float = _rate(0.25)
    tax_rate: Decimal = Decimal("0.08")
    shipping_fee: Decimal = Decimal("4.99")
    free_shipping_over: Decimal = Decimal("50.00")
    # Chat widget and conversations.
    widget_shown_rate: float = _rate(0.90)
    visitor_request_rate: float = _rate(0.08)
    video_share: float = _rate(0.2)
    proactive_rate: float = _rate(0.15)  # agent approaches a lingering visitor
    invite_accept_rate: float = _rate(0.35)  # visitor answers an agent invitation
    auto_rules: bool = True
    auto_accept_rate: float = _rate(0.25)  # visitor answers an auto invitation
    auto_click_rate: float = _rate(0.15)  # visitor clicks an auto message
    transfer_rate: float = _rate(0.15)
    escalation_share: float = _rate(0.35)  # of transfers
    survey_rate: float = _rate(0.65)
    survey_submit_rate: float = _rate(0.60)
    text_timeout_seconds: int = 300
    video_ring_seconds: int = 90
    # What invitations cause, with holdouts (None: the plain shop walk decides orders).
    causal: CausalModel | None = None

    def __attrs_post_init__(self) -> None:
        if not 0 <= self.agents <= len(AGENT_NAMES):
            raise ValueError(f"agents must be between 0 and {len(AGENT_NAMES)}, got {self.agents}")
        if self.weekend_agents < 0 or self.agent_capacity < 1:
            raise ValueError("weekend_agents must be >= 0 and agent_capacity >= 1")
        if self.text_timeout_seconds < 1 or self.video_ring_seconds < 1:
            raise ValueError("text_timeout_seconds and video_ring_seconds must be >= 1")
        if len(self.hourly_weights) != 24 or len(self.weekday_weights) != 7:
            raise ValueError("hourly_weights needs 24 values and weekday_weights 7")
        if min(self.hourly_weights) < 0 or sum(self.hourly_weights) <= 0:
            raise ValueError("hourly_weights must be >= 0 with a positive sum")
        if min(self.weekday_weights) < 0 or sum(self.weekday_weights) <= 0:
            raise ValueError("weekday_weights must be >= 0 with a positive sum")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code such as 'USD', got {self.currency!r}")
