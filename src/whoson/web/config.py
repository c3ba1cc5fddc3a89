"""Settings of the web application: who may post, how fast, what is trusted.

Every field has a default that is safe for a site serving the tag from its
own origin; a host changes only what differs.

>>> config = WebConfig(allow_origins=["https://shop.example"], heartbeat_seconds=15)
>>> config.allow_origins, config.heartbeat_seconds
(('https://shop.example',), 15)
>>> WebConfig(heartbeat_seconds=0)
Traceback (most recent call last):
...
whoson.core.errors.ConfigError: heartbeat_seconds must be between 1 and 3600, got 0
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from whoson.core.errors import ConfigError

__all__ = ["MAX_AGE_MS", "MAX_BATCH_BYTES", "MAX_BATCH_EVENTS", "WebConfig"]

MAX_BATCH_EVENTS = 100
MAX_BATCH_BYTES = 64 * 1024
MAX_AGE_MS = 600_000

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _strings(value: Iterable[str] | str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _origins(value: Iterable[str] | str | None) -> tuple[str, ...]:
    origins = _strings(value)
    for origin in origins:
        if origin != "*" and ("://" not in origin or origin.rstrip("/") != origin):
            raise ConfigError(f"allowed origin {origin!r} must look like https://shop.example (no path)")
    return origins


def _networks(value: Iterable[str] | str | None) -> tuple[Network, ...]:
    networks = []
    for item in _strings(value):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"trusted proxy {item!r} must be an IP address or network (10.0.0.0/8)") from None
    return tuple(networks)


def _agents(value: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> Mapping[str, str]:
    if value is None:
        return {}
    pairs = dict(value.items() if isinstance(value, Mapping) else value)
    for name, token in pairs.items():
        if not name or not token:
            raise ConfigError("an agent needs a name and a token (NAME:TOKEN)")
    return pairs


def _between(low: float, high: float) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        if isinstance(value, bool) or not low <= value <= high:
            raise ConfigError(f"{attribute.name} must be between {low:g} and {high:g}, got {value!r}")

    return check


@attrs.frozen(kw_only=True)
class WebConfig:
    """How the collector and the pages behave.

    - ``allow_origins``: origins (``https://shop.example``) allowed to post
      from another origin; same-origin posts are always allowed; ``"*"`` allows any.
    - ``trusted_proxies``: addresses or networks of reverse proxies whose
      ``X-Forwarded-For`` / ``X-Forwarded-Host`` headers are believed; the
      client address is otherwise the socket's peer.
    - ``country_header``: a header set by a trusted CDN with the visitor's
      country (``CF-IPCountry``); ``geoip_path``: a MaxMind ``.mmdb`` file
      (extra ``[enrich]``) used when the header is absent.
    - ``address_rate`` / ``address_burst``: collector requests per second
      (sustained / burst) from one client address; ``visitor_rate`` /
      ``visitor_burst``: the same per visitor id.
    - ``heartbeat_seconds``: the interval the collector tells tags to use.
    - ``query_allowlist``: query parameters kept in urls (``*`` globs);
      the others are dropped by the tag and again by the collector.
    - ``agents``: agent name -> bearer token (``whoson serve --agent``);
      ``cookie_secret``: signs the console's session cookie.
    - ``queue_batches``: how many batches may wait for the store before the
      collector answers 503.
    """

    allow_origins: tuple[str, ...] = attrs.field(default=(), converter=_origins)
    trusted_proxies: tuple[Network, ...] = attrs.field(default=(), converter=_networks)
    country_header: str | None = None
    geoip_path: str | None = None
    address_rate: float = attrs.field(default=20.0, validator=_between(0.01, 1e6))
    address_burst: int = attrs.field(default=200, validator=_between(1, 1e7))
    visitor_rate: float = attrs.field(default=2.0, validator=_between(0.01, 1e6))
    visitor_burst: int = attrs.field(default=30, validator=_between(1, 1e7))
    heartbeat_seconds: int = attrs.field(default=30, validator=_between(1, 3600))
    query_allowlist: tuple[str, ...] = attrs.field(default=("utm_*",), converter=_strings)
    agents: Mapping[str, str] = attrs.field(factory=dict, converter=_agents)
    cookie_secret: str | None = None
    queue_batches: int = attrs.field(default=1000, validator=_between(1, 1e7))
    demo_site: bool = False

    def origin_allowed(self, origin: str) -> bool:
        """Whether a cross-origin post from ``origin`` is allowed.

        >>> WebConfig(allow_origins=["https://a.example"]).origin_allowed("https://b.example")
        False
        """
        return "*" in self.allow_origins or origin in self.allow_origins

    def trusts(self, address: str | None) -> bool:
        """Whether ``address`` is one of the trusted proxies.

        >>> WebConfig(trusted_proxies=["10.0.0.0/8"]).trusts("10.1.2.3")
        True
        """
        if address is None or not self.trusted_proxies:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)
