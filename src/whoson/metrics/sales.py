"""The ``sales`` family: attributed orders and GMV (last touch), AOV, conversion, all orders.

The tally keys (declared once), what an order and a conversation add to them,
and how the section is read are all here. Which conversation an order is
attributed to is decided with the visitor's other entities
(:meth:`whoson.metrics.contributions.VisitorContext.last_touch`).

>>> from datetime import datetime, UTC
>>> from whoson import Tracker, FixedClock
>>> tracker = Tracker(clock=FixedClock(datetime(2026, 3, 2, 12, tzinfo=UTC)))
>>> _ = tracker.record_many([
...     {"id": "1", "type": "order", "ts": "2026-03-02T09:00:00Z", "visitor": "v1",
...      "order": "o1", "subtotal": "20.00"},
... ])
>>> sales = tracker.report().sales
>>> sales.all_orders, sales.all_gmv, sales.attributed_orders
(1, Decimal('20.00'), 0)
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from whoson.core.models import Conversation, Order
from whoson.metrics.conversations import conversation_count
from whoson.metrics.derive import CHANNELS
from whoson.metrics.params import money_ratio, ratio
from whoson.metrics.tally import Kind, Tally, declare

__all__ = [
    "ATTRIBUTED_GMV",
    "ATTRIBUTED_GMV_BY_CHANNEL",
    "ATTRIBUTED_ORDERS",
    "BOUGHT",
    "GMV",
    "ORDERS",
    "TALKED",
    "SalesFigures",
    "conversation_into",
    "order_into",
    "sales_figures",
]

ORDERS = declare("orders", Kind.COUNT, doc="orders in range")
GMV = declare("gmv", Kind.MONEY, doc="their value")
ATTRIBUTED_ORDERS = declare("att_orders", Kind.COUNT, doc="in-range orders attributed to a conversation")
ATTRIBUTED_GMV = declare("att_gmv", Kind.MONEY, doc="their value")
ATTRIBUTED_GMV_BY_CHANNEL = declare("att_gmv_by_channel", Kind.MONEY, ("channel",),
                                doc="their value by the attributing conversation's channel")
TALKED = declare("talked", Kind.SET, doc="visitors of conversations of in-range requests")
BOUGHT = declare("bought", Kind.SET, doc="visitors with an attributed in-range order")

# ------------------------------------------------------------------ contributions


def order_into(tally: Tally, order: Order, conversation: Conversation | None) -> None:
    """An order in the tally's slot, attributed to ``conversation`` (None: not attributed)."""
    tally.count((ORDERS,))
    tally.count((GMV,), order.value)
    if conversation is None:
        return
    tally.count((ATTRIBUTED_ORDERS,))
    tally.count((ATTRIBUTED_GMV,), order.value)
    tally.count((ATTRIBUTED_GMV_BY_CHANNEL, conversation.channel), order.value)
    tally.put(BOUGHT, order.visitor)


def conversation_into(tally: Tally, conversation: Conversation) -> None:
    """The conversation of a request created in the tally's slot: its visitor talked."""
    tally.put(TALKED, conversation.visitor)


# ------------------------------------------------------------------ figures


@attrs.frozen
class SalesFigures:
    """``sales`` section: what conversations sold, and every order for comparison."""

    attributed_orders: int
    attributed_gmv: Decimal
    attributed_gmv_by_channel: Mapping[str, Decimal]
    aov: Decimal | None
    conversion_rate: float | None
    all_orders: int
    all_gmv: Decimal
    all_aov: Decimal | None
    sales_per_conversation: Decimal | None


def sales_figures(tally: Tally) -> SalesFigures:
    """The ``sales`` section from the range's tally."""
    orders = int(tally.number((ATTRIBUTED_ORDERS,)))
    gmv = tally.money((ATTRIBUTED_GMV,))
    all_orders = int(tally.number((ORDERS,)))
    all_gmv = tally.money((GMV,))
    return SalesFigures(
        attributed_orders=orders,
        attributed_gmv=gmv,
        attributed_gmv_by_channel=MappingProxyType(
            {channel: tally.money((ATTRIBUTED_GMV_BY_CHANNEL, channel)) for channel in CHANNELS}
        ),
        aov=money_ratio(gmv, orders),
        conversion_rate=ratio(tally.common(TALKED, BOUGHT), tally.distinct(TALKED)),
        all_orders=all_orders,
        all_gmv=all_gmv,
        all_aov=money_ratio(all_gmv, all_orders),
        sales_per_conversation=money_ratio(gmv, conversation_count(tally)),
    )
