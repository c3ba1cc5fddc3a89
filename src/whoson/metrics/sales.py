"""Sales figures: attributed orders and GMV (last touch), AOV, conversion, all orders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from whoson.core.models import Order
from whoson.metrics.params import money_ratio, ratio
from whoson.metrics.scope import Scope

__all__ = ["SalesFigures", "sales_figures", "total_value"]


def total_value(orders: Iterable[Order]) -> Decimal:
    """Exact sum of order values (0 for none)."""
    return sum((o.value for o in orders), Decimal(0))


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


def sales_figures(scope: Scope) -> SalesFigures:
    """The ``sales`` section of the report."""
    attributed = scope.attributions.values()
    gmv = total_value(a.order for a in attributed)
    by_channel = {
        channel: total_value(a.order for a in attributed if a.conversation.channel == channel)
        for channel in ("text", "video")
    }
    talked = {c.visitor for c in scope.conversations}
    bought = {a.order.visitor for a in attributed}
    all_gmv = total_value(scope.orders)
    return SalesFigures(
        attributed_orders=len(attributed),
        attributed_gmv=gmv,
        attributed_gmv_by_channel=MappingProxyType(by_channel),
        aov=money_ratio(gmv, len(attributed)),
        conversion_rate=ratio(len(talked & bought), len(talked)),
        all_orders=len(scope.orders),
        all_gmv=all_gmv,
        all_aov=money_ratio(all_gmv, len(scope.orders)),
        sales_per_conversation=money_ratio(gmv, len(scope.conversations)),
    )
