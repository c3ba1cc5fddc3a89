"""A small shop that carries the tag, for ``whoson serve --demo-site`` and the browser tests.

Pages: home, products, a product, cart, checkout, a thank-you page and help
(help topics switch with ``history.pushState``, like a single-page app).
Adding to the cart and placing an order go to this backend, which records
``cart_update`` and ``order`` through the Python API (a browser may not send
them), for the visitor named by the tag's first-party cookie.

>>> from whoson import Tracker
>>> app = demo_app(Tracker(), prefix="/whoson")
>>> sorted({r.path for r in app.routes})[:3]
['/', '/cart', '/cart/add']
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import attrs
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from whoson.core.time import format_ts
from whoson.tracker import Tracker
from whoson.web.collector import VISITOR_COOKIE, _cookie

__all__ = ["PRODUCTS", "Product", "demo_app"]


@attrs.frozen
class Product:
    """One thing the demo shop sells."""

    slug: str
    name: str
    price: Decimal
    blurb: str
    colour: str


PRODUCTS: tuple[Product, ...] = (
    Product("trail-shoes", "Trail running shoes", Decimal("89.00"), "Grippy soles for muddy mornings.", "#c8553d"),
    Product("rain-jacket", "Packable rain jacket", Decimal("120.00"), "Folds into its own pocket.", "#2d6a8f"),
    Product("wool-socks", "Merino wool socks", Decimal("14.50"), "Warm, and they do not itch.", "#6a8f2d"),
    Product("headlamp", "Rechargeable headlamp", Decimal("35.00"), "400 lumens, USB-C.", "#8f6a2d"),
)
_BY_SLUG = {p.slug: p for p in PRODUCTS}
_HELP = {
    "shipping": ("Shipping", "Orders leave our warehouse within one working day; delivery takes 2-4 days."),
    "returns": ("Returns", "Send anything back within 30 days, unworn, for a full refund."),
    "sizes": ("Sizes", "Our shoes run half a size small: when in doubt, take the larger one."),
}

_STYLE = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#222;background:#f6f4f0}
header{background:#1f3b2d;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none}header .brand{font-weight:700;font-size:20px;margin-right:auto}
main{max-width:960px;margin:24px auto;padding:0 24px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:16px}
.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px #0002}
.swatch{height:90px;border-radius:6px;margin-bottom:8px}
button,.button{background:#1a6fd6;color:#fff;border:0;border-radius:6px;padding:8px 14px;font:inherit;cursor:pointer;
text-decoration:none;display:inline-block}
#chat-widget{position:fixed;left:16px;bottom:16px;background:#1f3b2d}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{padding:8px;border-bottom:1px solid #ddd;text-align:left}
nav.topics a{margin-right:12px;color:#1a6fd6}.card h3 a{color:#1f3b2d;text-decoration:none}
"""


def _page(prefix: str, title: str, body: str, count: int) -> HTMLResponse:
    tag = html.escape(prefix + "/t.js", quote=True)
    text = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Trailhead demo shop</title><style>{_STYLE}</style>
<script>window.whoson=window.whoson||function(){{(whoson.q=whoson.q||[]).push(arguments)}};
whoson("track","widget_impression");</script>
<script defer src="{tag}"></script></head>
<body><header><a class="brand" href="/">Trailhead</a><a href="/products">Products</a><a href="/help">Help</a>
<a href="/cart" id="cart-link">Cart ({count})</a></header>
<main>{body}</main>
<button id="chat-widget" type="button" onclick="whoson('chat')">Chat with us</button>
</body></html>"""
    return HTMLResponse(text, headers={"cache-control": "no-store"})


def _card(p: Product) -> str:
    return (f'<div class="card"><div class="swatch" style="background:{p.colour}"></div>'
            f'<h3><a href="/products/{p.slug}">{html.escape(p.name)}</a></h3><p>{html.escape(p.blurb)}</p>'
            f'<p><strong>€{p.price}</strong></p>'
            f'<form method="post" action="/cart/add"><input type="hidden" name="slug" value="{p.slug}">'
            f'<button type="submit" id="add-{p.slug}">Add to cart</button></form></div>')


class _Shop:
    """The demo's state: carts by visitor id (in memory) and the tracker to record into."""

    def __init__(self, tracker: Tracker, prefix: str) -> None:
        self.tracker = tracker
        self.prefix = prefix
        self.carts: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def visitor(self, request: Request) -> str | None:
        return _cookie(request.headers.get("cookie", ""), VISITOR_COOKIE)

    def cart(self, visitor: str | None) -> dict[str, int]:
        with self._lock:
            return dict(self.carts.get(visitor or "", {}))

    def count(self, request: Request) -> int:
        return sum(self.cart(self.visitor(request)).values())

    def total(self, cart: dict[str, int]) -> Decimal:
        return sum((_BY_SLUG[slug].price * n for slug, n in cart.items()), Decimal(0))

    async def record(self, event: dict[str, Any]) -> None:
        event = {"id": "demo-" + secrets.token_hex(8), "ts": format_ts(self.tracker.clock.now()), **event}
        await run_in_threadpool(self.tracker.record, event)

    # -- pages ------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        cards = "".join(_card(p) for p in PRODUCTS[:2])
        body = (f'<h1>Gear for wet weekends</h1><p>This is a demo shop: open the agents\' console at '
                f'<code>{html.escape(self.prefix)}/live</code> in another window and watch yourself arrive.</p>'
                f'<div class="grid">{cards}</div><p><a class="button" href="/products">All products</a></p>')
        return _page(self.prefix, "Home", body, self.count(request))

    async def products(self, request: Request) -> Response:
        cards = "".join(_card(p) for p in PRODUCTS)
        return _page(self.prefix, "Products", f'<h1>Products</h1><div class="grid">{cards}</div>', self.count(request))

    async def product(self, request: Request) -> Response:
        product = _BY_SLUG.get(request.path_params["slug"])
        if product is None:
            return _page(self.prefix, "Not found", "<h1>No such product</h1>", self.count(request))
        return _page(self.prefix, product.name, f'<h1>{html.escape(product.name)}</h1>{_card(product)}',
                     self.count(request))

    async def show_cart(self, request: Request) -> Response:
        cart = self.cart(self.visitor(request))
        if not cart:
            body = '<h1>Your cart</h1><p id="cart-empty">Your cart is empty.</p>'
        else:
            rows = "".join(f"<tr><td>{html.escape(_BY_SLUG[s].name)}</td><td>{n}</td>"
                           f"<td>€{_BY_SLUG[s].price * n}</td></tr>" for s, n in cart.items())
            body = (f'<h1>Your cart</h1><table><tr><th>Item</th><th>Qty</th><th>Price</th></tr>{rows}</table>'
                    f'<p>Total: <strong id="cart-total">€{self.total(cart)}</strong></p>'
                    f'<p><a class="button" id="to-checkout" href="/checkout">Checkout</a></p>')
        return _page(self.prefix, "Cart", body, self.count(request))

    async def checkout(self, request: Request) -> Response:
        cart = self.cart(self.visitor(request))
        body = (f'<h1>Checkout</h1><p>Total to pay: €{self.total(cart)}</p>'
                '<form method="post" action="/checkout/place"><label>Name <input name="name" value="Demo"></label> '
                '<button type="submit" id="place-order">Place order</button></form>')
        return _page(self.prefix, "Checkout", body, self.count(request))

    async def thanks(self, request: Request) -> Response:
        return _page(self.prefix, "Thank you", '<h1>Thank you!</h1><p id="thanks">Your order is on its way.</p>', 0)

    async def help(self, request: Request) -> Response:
        topic = request.path_params.get("topic", "shipping")
        heading, text = _HELP.get(topic, _HELP["shipping"])
        links = "".join(f'<a href="/help/{k}" data-topic="{k}">{html.escape(v[0])}</a>' for k, v in _HELP.items())
        script = """<script>
document.querySelectorAll('nav.topics a').forEach(function (a) {
  a.addEventListener('click', function (e) {
    e.preventDefault();
    var t = TOPICS[a.dataset.topic];
    document.getElementById('topic-title').textContent = t[0];
    document.getElementById('topic-text').textContent = t[1];
    history.pushState({}, '', a.getAttribute('href'));
  });
});
</script>"""
        topics = {k: list(v) for k, v in _HELP.items()}
        data = json.dumps(topics).replace("<", "\\u003c")
        body = (f'<h1>Help</h1><nav class="topics">{links}</nav><h2 id="topic-title">{html.escape(heading)}</h2>'
                f'<p id="topic-text">{html.escape(text)}</p><script>var TOPICS = {data};</script>{script}')
        return _page(self.prefix, "Help", body, self.count(request))

    # -- the backend ----------------------------------------------------------------

    async def add(self, request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        slug = form.get("slug", [""])[0]
        visitor = self.visitor(request)
        if slug in _BY_SLUG and visitor is not None:
            with self._lock:
                cart = self.carts.setdefault(visitor, {})
                cart[slug] = cart.get(slug, 0) + 1
                value = self.total(cart)
            await self.record({"type": "cart_update", "visitor": visitor, "value": str(value)})
        return RedirectResponse("/cart", status_code=303)

    async def place(self, request: Request) -> Response:
        visitor = self.visitor(request)
        cart = self.cart(visitor)
        if visitor is None or not cart:
            return RedirectResponse("/cart", status_code=303)
        with self._lock:
            self.carts.pop(visitor, None)
        order = "D" + secrets.token_hex(4).upper()
        await self.record({"type": "order", "visitor": visitor, "order": order, "subtotal": str(self.total(cart))})
        await self.record({"type": "cart_update", "visitor": visitor, "value": "0"})
        return RedirectResponse("/thanks", status_code=303)


def demo_app(tracker: Tracker, *, prefix: str = "/whoson") -> Starlette:
    """The demo shop as an ASGI app (mount it at ``/``; the tag is at ``prefix``)."""
    shop = _Shop(tracker, prefix)
    return Starlette(routes=[
        Route("/", shop.home),
        Route("/products", shop.products),
        Route("/products/{slug}", shop.product),
        Route("/cart", shop.show_cart),
        Route("/cart/add", shop.add, methods=["POST"]),
        Route("/checkout", shop.checkout),
        Route("/checkout/place", shop.place, methods=["POST"]),
        Route("/thanks", shop.thanks),
        Route("/help", shop.help),
        Route("/help/{topic}", shop.help),
    ])
