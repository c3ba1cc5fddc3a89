"""Sales figures: attributed orders and GMV (last touch), AOV, conversion, all orders."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from whoson.metrics.conversations import conversation_count
from whoson.metrics.params import money_ratio, ratio
from whoson.metrics.tally import Tally

__all__ = ["SalesFigures", "sales_figures"]


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
    orders = int(tally.number(("att_orders",)))
    gmv = tally.money(("att_gmv",))
    all_orders = int(tally.number(("orders",)))
    all_gmv = tally.money(("gmv",))
    return SalesFigures(
        attributed_orders=orders,
        attributed_gmv=gmv,
        attributed_gmv_by_channel=MappingProxyType(
            {channel: tally.money(("att_gmv", channel)) for channel in ("text", "video")}
        ),
        aov=money_ratio(gmv, orders),
        conversion_rate=ratio(tally.common("talked", "bought"), tally.distinct("talked")),
        all_orders=all_orders,
        all_gmv=all_gmv,
        all_aov=money_ratio(all_gmv, all_orders),
        sales_per_conversation=money_ratio(gmv, conversation_count(tally)),
    )
