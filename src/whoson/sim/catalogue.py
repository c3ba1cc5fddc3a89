"""The simulated shop: pages, products, traffic sources, devices and staff names.

Everything here is fixed data, the same for every seed, so a page or product
means the same thing in every simulated log.

>>> PRODUCTS[0].url, PRODUCTS[0].price
('/product/trail-runner', Decimal('89.90'))
>>> page_kind("/checkout/payment"), page_kind("/product/rain-shell")
('checkout', 'product')
"""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = [
    "AGENT_NAMES",
    "CATEGORIES",
    "COUNTRIES",
    "DEVICES",
    "FEEDBACK_BAD",
    "FEEDBACK_GOOD",
    "FIRST_NAMES",
    "HELP_PAGES",
    "LAST_NAMES",
    "PRODUCTS",
    "REFERRERS",
    "TITLES",
    "USER_AGENTS",
    "Product",
    "page_kind",
]


@attrs.frozen
class Product:
    """One product page of the shop, with its category and unit price."""

    slug: str
    category: str
    price: Decimal

    @property
    def url(self) -> str:
        """The product page's path."""
        return f"/product/{self.slug}"


# fmt: off
_RAW_PRODUCTS = {
    "shoes": [
        ("trail-runner", "89.90"), ("city-sneaker", "64.50"), ("hiking-boot", "149.00"),
        ("rain-boot", "54.90"), ("sandal-classic", "34.90"), ("running-pro", "129.00"),
        ("slip-on", "39.90"), ("winter-boot", "174.00"),
    ],
    "jackets": [
        ("rain-shell", "119.00"), ("down-parka", "289.00"), ("fleece-zip", "59.90"),
        ("windbreaker", "74.90"), ("softshell", "139.00"), ("denim-jacket", "84.90"),
    ],
    "bags": [
        ("daypack-20", "69.90"), ("travel-duffel", "99.00"), ("laptop-sleeve", "29.90"),
        ("hip-pack", "24.90"), ("roll-top-30", "119.00"), ("tote-canvas", "19.90"),
    ],
    "accessories": [
        ("wool-beanie", "22.90"), ("merino-socks", "16.90"), ("sun-cap", "19.90"),
        ("gloves-touch", "27.50"), ("water-bottle", "18.00"), ("sunglasses", "59.00"),
        ("scarf-knit", "32.00"),
    ],
    "outdoor": [
        ("tent-2p", "249.00"), ("sleeping-bag", "159.00"), ("camp-stove", "64.90"),
        ("trek-poles", "79.00"), ("headlamp", "34.90"), ("camp-chair", "49.90"),
    ],
}

PRODUCTS: tuple[Product, ...] = tuple(
    Product(slug, category, Decimal(price))
    for category, items in _RAW_PRODUCTS.items()
    for slug, price in items
)
CATEGORIES: tuple[str, ...] = (*_RAW_PRODUCTS, "sale")
HELP_PAGES: tuple[str, ...] = (
    "/help/shipping", "/help/returns", "/help/sizing", "/help/payment", "/help/contact",
)

TITLES: dict[str, str] = {
    "/": "Trailhead Outfitters",
    "/cart": "Your cart",
    "/checkout": "Checkout",
    "/checkout/payment": "Checkout - payment",
    "/checkout/complete": "Thank you for your order",
    "/pricing": "Trailhead Club membership",
    **{f"/category/{c}": f"{c.capitalize()} | Trailhead" for c in CATEGORIES},
    **{url: url.rsplit("/", 1)[1].capitalize() + " help" for url in HELP_PAGES},
    **{p.url: p.slug.replace("-", " ").title() for p in PRODUCTS},
}

# (referrer or None for direct traffic, weight, where the visitor lands)
REFERRERS: tuple[tuple[str | None, float, str], ...] = (
    (None, 0.30, "home"),
    ("https://www.google.com/", 0.28, "product"),
    ("https://www.bing.com/", 0.04, "product"),
    ("https://www.google.com/aclk?campaign=spring-sale", 0.10, "category"),
    ("https://www.instagram.com/", 0.09, "product"),
    ("https://www.facebook.com/", 0.06, "category"),
    ("https://newsletter.trailhead.example/", 0.08, "category"),
    ("https://www.outdoorforum.example/thread/boots", 0.05, "help"),
)

DEVICES: tuple[tuple[str, float], ...] = (("desktop", 0.55), ("mobile", 0.38), ("tablet", 0.07))

USER_AGENTS: dict[str, tuple[str, ...]] = {
    "desktop": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.3 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    ),
    "mobile": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.3 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/122.0 Mobile Safari/537.36",
    ),
    "tablet": (
        "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.3 Mobile/15E148 Safari/604.1",
    ),
}

COUNTRIES: tuple[tuple[str, float], ...] = (
    ("US", 0.46), ("CA", 0.10), ("GB", 0.10), ("DE", 0.07), ("FR", 0.05), ("AU", 0.05),
    ("NL", 0.04), ("ES", 0.03), ("IN", 0.04), ("BR", 0.03), ("JP", 0.03),
)

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mateo",
    "Chloe", "Arjun", "Hana", "Leon", "Zoe", "Yusuf", "Ines", "Kenji", "Maya", "Oscar",
)
LAST_NAMES = (
    "Smith", "Garcia", "Müller", "Chen", "Martin", "Rossi", "Kowalski", "Nguyen", "Silva",
    "Brown", "Dubois", "Patel", "Tanaka", "Jensen", "Okafor", "Novak",
)

# The supervisor comes first: escalations go to them.
AGENT_NAMES: tuple[tuple[str, str], ...] = (
    ("sam", "Sam Okafor"), ("alice", "Alice Martin"), ("bruno", "Bruno Costa"),
    ("chen", "Chen Wei"), ("dana", "Dana Novak"), ("emil", "Emil Jensen"),
    ("fatima", "Fatima Haddad"), ("gus", "Gus Moreno"), ("hiro", "Hiro Tanaka"),
    ("ines", "Ines Duarte"),
)

FEEDBACK_GOOD = (
    "Quick and friendly, thanks!", "Helped me pick the right size.",
    "Great advice on the boots.", "Super helpful, ordered right away.",
    "Answered everything in a minute.",
)
FEEDBACK_BAD = (
    "Waited too long for an answer.", "Did not solve my problem.",
    "Had to repeat myself after the transfer.", "Answer was not clear.",
)
# fmt: on


def page_kind(url: str) -> str:
    """The kind of a shop url: home, category, product, cart, checkout, help or pricing."""
    if url == "/":
        return "home"
    if url == "/cart":
        return "cart"
    if url == "/pricing":
        return "pricing"
    return url.split("/", 2)[1]
