"""One visit: a walk through the shop with heartbeats, carts, orders, rules and chats.

A session starts on a landing page chosen by the traffic source, stays on
each page for a log-normal dwell time (sending a heartbeat every
``heartbeat_seconds`` and a ``page_leave`` at the end), and moves on along
shop-like transitions until the visitor leaves. At most one chat request
happens per session: the visitor clicks the widget, an agent approaches a
lingering visitor, or an engagement rule invites them. A conversation makes
adding to cart, checking out and paying more likely (``chat_conversion_boost``)
for the rest of the session and for sessions in the following week.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from heapq import heappush
from typing import Any

from whoson.rules.model import in_holdout
from whoson.sim.agents import DAY, SECOND
from whoson.sim.catalogue import (
    CATEGORIES,
    HELP_PAGES,
    PRODUCTS,
    REFERRERS,
    TITLES,
    Product,
    page_kind,
)
from whoson.sim.chat import ChatOutcome, agent_invite, auto_invite, visitor_request
from whoson.sim.world import Visitor, World

__all__ = ["visit"]

CENT = Decimal("0.01")
# fmt: off
_DWELL_MEDIAN = {
    "home": 20.0, "category": 35.0, "product": 55.0, "cart": 40.0, "checkout": 75.0,
    "help": 75.0, "pricing": 60.0,
}
_DWELL_URL = {"/checkout/payment": 85.0, "/checkout/complete": 25.0}
# How much more likely than average a visitor is to ask for help on a kind of page.
_ASK_FACTOR = {
    "home": 0.4, "category": 0.4, "product": 1.0, "cart": 1.5, "checkout": 2.0, "help": 3.0,
    "pricing": 2.0,
}
# Next-page choices per page kind: (target, weight); "exit" leaves the site.
_NEXT: dict[str, tuple[tuple[str, float], ...]] = {
    "home": (("exit", 0.25), ("category", 0.45), ("product", 0.17), ("help", 0.05),
             ("pricing", 0.05), ("cart", 0.03)),
    "category": (("exit", 0.25), ("product", 0.55), ("category", 0.12), ("home", 0.05),
                 ("pricing", 0.03)),
    "product": (("exit", 0.30), ("product", 0.35), ("category", 0.15), ("cart", 0.12),
                ("help", 0.05), ("home", 0.03)),
    "help": (("exit", 0.35), ("help", 0.25), ("home", 0.15), ("product", 0.15),
             ("category", 0.10)),
    "pricing": (("exit", 0.40), ("home", 0.20), ("category", 0.30), ("help", 0.10)),
    "/checkout": (("exit", 0.15), ("payment", 0.80), ("cart", 0.05)),
    "/checkout/payment": (("exit", 0.60), ("cart", 0.30), ("checkout", 0.10)),
    "/checkout/complete": (("exit", 0.80), ("home", 0.20)),
}
# fmt: on
_SOURCE_WEIGHTS = [weight for _, weight, _ in REFERRERS]
_LINGER_AGENT_KINDS = frozenset({"product", "cart", "checkout", "pricing"})


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class _Visit:
    """The state of one session while it is walked."""

    def __init__(self, w: World, v: Visitor, t0: int) -> None:
        self.w = w
        self.v = v
        config = w.config
        v.sessions += 1
        self.returning = v.sessions > 1
        self.session = f"{v.id}-s{v.sessions}" if v.sends_session else None
        recent = v.engaged_at is not None and t0 - v.engaged_at <= 7 * DAY
        self.boost = config.chat_conversion_boost if recent else 1.0
        self.widget = w.rng.random() < config.widget_shown_rate
        self.chatted = False
        self.identified = False
        self.ordered = False
        self.fired: set[str] = set()
        self.exit_scale = 5.0 / config.mean_pages
        self.pages = 0

    def run(self, t: int) -> int:
        w, v, rng = self.w, self.v, self.w.rng
        source, _, landing = REFERRERS[rng.choices(range(len(REFERRERS)), _SOURCE_WEIGHTS)[0]]
        if self.returning and rng.random() < 0.5:
            source, landing = None, "home"
        url = self._resolve(landing, None)
        first = True
        heap, next_seq = w.heap, w.next_seq
        while True:
            fields: dict[str, Any] = {"url": url, "title": TITLES[url]}
            if first:
                if source is not None:
                    fields["referrer"] = source
                fields.update(device=v.device, country=v.country, user_agent=v.user_agent)
            if self.session is not None:
                fields["session"] = self.session
            w.visitor_event(t, "page_view", v, **fields)
            self.pages += 1
            end, forced = self._on_page(t, url, first)
            step = int(w.config.heartbeat_seconds * SECOND)
            for beat in range(t + step, end, step):
                # Inlined visitor_event: heartbeats are half of all events.
                heartbeat = {
                    "id": None,
                    "type": "heartbeat",
                    "ts": None,
                    "visitor": v.id,
                    "url": url,
                }
                heappush(heap, (beat, next_seq(), heartbeat))
            w.visitor_event(end, "page_leave", v, url=url)
            nxt = forced if forced is not None else self._next(url)
            if nxt is None:
                return end
            url = nxt
            t = end + rng.randint(300, 2500)
            first = False

    def _on_page(self, t: int, url: str, first: bool) -> tuple[int, str | None]:
        """Everything that happens while the page is open; returns (leave time, forced next)."""
        w, v, rng, config = self.w, self.v, self.w.rng, self.w.config
        kind = page_kind(url)
        median = _DWELL_URL.get(url) or _DWELL_MEDIAN[kind]
        dwell = median * config.dwell_scale * rng.lognormvariate(0.0, 0.8)
        dwell_ms = int(min(max(dwell, 3.0), 1800.0) * SECOND)
        end = t + dwell_ms
        forced: str | None = None
        if first:
            self._landing_extras(t, dwell_ms, url)
        if kind == "product":
            if rng.random() < min(0.95, config.add_to_cart_rate * self.boost):
                self._add_to_cart(t + int(dwell_ms * rng.uniform(0.5, 0.95)), url)
                if rng.random() < 0.55:
                    forced = "/cart"
        elif url == "/cart" and v.cart and rng.random() < 0.08:
            v.cart.pop()
            self._cart_update(t + dwell_ms // 2)
        elif url == "/checkout" and not self.identified:
            w.make_customer(v)
            self._identify(t + dwell_ms // 4)
        elif (
            url == "/checkout/payment"
            and v.cart
            and not self.ordered
            and (v.no_orders_until is None or t >= v.no_orders_until)
            and rng.random() < min(0.97, config.pay_rate * self.boost)
        ):
            self._order(t + int(dwell_ms * rng.uniform(0.6, 0.95)))
            forced = "/checkout/complete"
        if self.widget and not self.chatted:
            outcome = self._chat(t, dwell_ms, url, kind)
            if outcome is not None:
                self.chatted = True
                end = max(end, outcome.end + rng.randint(5, 90) * SECOND)
                if outcome.engaged is not None:
                    self.boost = max(self.boost, config.chat_conversion_boost)
                return end, forced
        if config.auto_rules and forced is None:
            clicked = self._auto_message(t, dwell_ms, url)
            if clicked is not None:
                return clicked
        return end, forced

    def _landing_extras(self, t: int, dwell_ms: int, url: str) -> None:
        w, v, rng, config = self.w, self.v, self.w.rng, self.w.config
        if self.widget:
            w.visitor_event(t + rng.randint(500, 3000), "widget_impression", v, url=url)
        if v.customer is not None and rng.random() < config.identify_rate:
            self._identify(t + rng.randint(1500, 5000))
        elif v.customer is None and rng.random() < config.identify_rate * 0.2:
            w.make_customer(v)
            self._identify(t + rng.randint(1500, 5000))

    def _identify(self, t: int) -> None:
        v = self.v
        self.w.visitor_event(t, "identify", v, customer=v.customer, name=v.name, email=v.email)
        self.identified = True

    def _cart_value(self) -> Decimal:
        return sum((p.price for p in self.v.cart), Decimal("0.00"))

    def _cart_update(self, t: int) -> None:
        self.w.visitor_event(t, "cart_update", self.v, value=self._cart_value())

    def _add_to_cart(self, t: int, url: str) -> None:
        product = _BY_URL[url]
        self.v.cart.append(product)
        if self.w.rng.random() < 0.1:
            self.v.cart.append(product)
        self._cart_update(t)

    def _order(self, t: int) -> None:
        w, v, rng, config = self.w, self.v, self.w.rng, self.w.config
        subtotal = self._cart_value()
        discount = Decimal("0.00")
        if v.coupon:
            discount = _money(subtotal * Decimal("0.10"))
        elif rng.random() < config.discount_rate:
            discount = min(
                subtotal,
                rng.choice(
                    (
                        Decimal("5.00"),
                        _money(subtotal * Decimal("0.10")),
                        _money(subtotal * Decimal("0.15")),
                    )
                ),
            )
        value = subtotal - discount
        fields: dict[str, Any] = {"order": w.new_order_id(), "subtotal": subtotal}
        if discount:
            fields["discount"] = discount
        fields["shipping"] = Decimal("0.00") if value >= config.free_shipping_over else config.shipping_fee
        fields["tax"] = _money(value * config.tax_rate)
        fields["currency"] = config.currency
        w.visitor_event(t, "order", v, **fields)
        v.cart.clear()
        v.coupon = False
        v.orders += 1
        self.ordered = True
        self._cart_update(t + rng.randint(500, 3000))

    def _chat(self, t: int, dwell_ms: int, url: str, kind: str) -> ChatOutcome | None:
        """At most one of: the visitor asks, a rule invites, an agent approaches."""
        w, v, rng, config = self.w, self.v, self.w.rng, self.w.config
        ask = config.visitor_request_rate * _ASK_FACTOR[kind] / config.mean_pages
        if rng.random() < ask:
            at = t + int(dwell_ms * rng.uniform(0.15, 0.85))
            w.visitor_event(at, "widget_click", v, url=url, source="widget")
            channel = "video" if rng.random() < config.video_share else "text"
            department = "support" if kind == "help" else "sales"
            return visitor_request(w, v, at + rng.randint(300, 1500), url, channel, department)
        if config.auto_rules:
            trigger, delay = "", 0
            if url in ("/checkout", "/checkout/payment") and dwell_ms >= 90 * SECOND:
                trigger, delay = "checkout-help", 90 * SECOND
            elif kind == "help" and dwell_ms >= 75 * SECOND and rng.random() < 0.6:
                trigger, delay = "help-linger", 75 * SECOND
            if trigger and trigger not in self.fired and w.roster.online_at(t + delay):
                if config.causal is not None:
                    if v.exposed or self.ordered:
                        return None  # one exposure per visitor; none right after buying
                    self.fired.add(trigger)
                    return self._experiment(t + delay, url, trigger)
                self.fired.add(trigger)
                return auto_invite(w, v, t + delay, url, trigger)
        if kind in _LINGER_AGENT_KINDS and dwell_ms >= 120 * SECOND and rng.random() < config.proactive_rate:
            at = t + rng.randint(120, min(dwell_ms // SECOND, 300)) * SECOND
            online = w.roster.online_at(at)
            if online:
                agent = w.roster.pick(online, rng)
                return agent_invite(w, v, at, url, agent, stuck=kind in ("cart", "checkout"))
        return None

    def _experiment(self, t: int, url: str, trigger: str) -> ChatOutcome | None:
        """The causal model's exposure: holdout or invitation, then the decided conversion."""
        w, v, rng = self.w, self.v, self.w.rng
        causal = w.config.causal
        assert causal is not None
        v.exposed = True
        held = in_holdout(trigger, v.id, causal.holdout_of(trigger))
        chance = causal.chance(
            trigger, not held, cart=bool(v.cart), returning=self.returning,
            checkout=page_kind(url) == "checkout", mobile=v.device == "mobile", pages=self.pages,
        )
        converts = rng.random() < chance
        window = int(causal.window.total_seconds() * SECOND)
        v.no_orders_until = t + window + SECOND
        outcome: ChatOutcome | None = None
        if held:
            w.visitor_event(t, "holdout", v, trigger=trigger, url=url)
        else:
            outcome = auto_invite(w, v, t, url, trigger)
        if converts:
            if not v.cart:
                self.v.cart.append(rng.choice(PRODUCTS))
            self._order(t + rng.randint(60, 900) * SECOND)
        return outcome

    def _auto_message(self, t: int, dwell_ms: int, url: str) -> tuple[int, str | None] | None:
        """Rules that only show a message; a click on a link navigates there."""
        w, v, rng, config = self.w, self.v, self.w.rng, self.w.config
        if url == "/pricing" and dwell_ms >= 60 * SECOND:
            trigger, at, link, chance = "linger-pricing", 60 * SECOND, "/help/payment", 2.0
        elif url == "/cart" and v.cart and dwell_ms >= 45 * SECOND:
            trigger, at, link, chance = "cart-rescue", 45 * SECOND, "/checkout?coupon=SAVE10", 2.5
        elif self.returning and v.sessions == 2 and dwell_ms >= 10 * SECOND and rng.random() < 0.5:
            trigger, at, link, chance = "welcome-back", 10 * SECOND, "", 0.5
        else:
            return None
        if trigger in self.fired:
            return None
        self.fired.add(trigger)
        fields = {"trigger": trigger, "link": link, "url": url} if link else {"trigger": trigger, "url": url}
        w.visitor_event(t + at, "auto_message", v, **fields)
        if rng.random() >= min(1.0, config.auto_click_rate * chance):
            return None
        click = t + at + rng.randint(3, 30) * SECOND
        w.visitor_event(
            click,
            "auto_message_click",
            v,
            **({"trigger": trigger, "link": link} if link else {"trigger": trigger}),
        )
        if not link:
            return None
        if "coupon=" in link:
            v.coupon = True
        return click + rng.randint(200, 900), link.split("?", 1)[0]

    def _resolve(self, target: str, current: str | None) -> str:
        """A url of the ``target`` kind; never the page the visitor is on."""
        rng = self.w.rng
        if target == "category":
            pool = _CATEGORY_URLS
        elif target == "product":
            pool = _PRODUCT_URLS
            if current is not None and current.startswith("/product/") and rng.random() < 0.6:
                pool = _BY_CATEGORY[_BY_URL[current].category]
        elif target == "help":
            pool = HELP_PAGES
        else:
            return _FIXED[target]
        if len(pool) < 2:
            pool = _PRODUCT_URLS
        url = rng.choice(pool)
        while url == current:
            url = rng.choice(pool)
        return url

    def _next(self, url: str) -> str | None:
        """The next page along the shop's transitions, or ``None`` when the visitor leaves."""
        rng, config = self.w.rng, self.w.config
        kind = page_kind(url)
        if kind == "cart":
            if self.v.cart:
                options: tuple[tuple[str, float], ...] = (
                    ("exit", 0.40),
                    ("checkout", config.checkout_rate * self.boost),
                    ("product", 0.25),
                    ("category", 0.10),
                )
            else:
                options = (("exit", 0.50), ("category", 0.35), ("home", 0.15))
        else:
            options = _NEXT.get(url) or _NEXT[kind]
        weights = [w * self.exit_scale if name == "exit" else w for name, w in options]
        choice = rng.choices(options, weights)[0][0]
        if choice == "exit":
            return None
        return self._resolve(choice, url)


_BY_URL: dict[str, Product] = {p.url: p for p in PRODUCTS}
_PRODUCT_URLS: tuple[str, ...] = tuple(_BY_URL)
_CATEGORY_URLS: tuple[str, ...] = tuple(f"/category/{c}" for c in CATEGORIES)
_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    category: tuple(p.url for p in PRODUCTS if p.category == category) for category in CATEGORIES
}
_FIXED = {
    "home": "/",
    "pricing": "/pricing",
    "cart": "/cart",
    "checkout": "/checkout",
    "payment": "/checkout/payment",
}


def visit(w: World, v: Visitor, t0: int) -> int:
    """Walk one session of ``v`` starting at ``t0``; return the time of its last event."""
    return _Visit(w, v, t0).run(t0)
