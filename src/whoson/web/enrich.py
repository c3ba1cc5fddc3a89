"""What the server adds to a browser's events: device, country, bot verdict, client address.

The tag never says where or what it runs on; the collector reads it from the
request, and only from sources it trusts (a configured CDN header, a GeoIP
file, ``X-Forwarded-For`` from a configured proxy).

>>> device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1")
'mobile'
>>> device("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36")
'desktop'
>>> bot_reason("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
'bot'
>>> bot_reason("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0.0.0 Safari/537.36") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from whoson.web.config import WebConfig

__all__ = ["Enricher", "bot_reason", "client_address", "device"]

# Crawlers, monitors, link unfurlers and HTTP libraries. A headless Chrome
# driven by a test is NOT here: it is flagged (``automation``), never dropped.
_BOTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|mediapartners|facebookexternalhit|embedly|"
    r"pingdom|uptimerobot|lighthouse|python-requests|python-urllib|curl/|wget/|"
    r"python-httpx|aiohttp|go-http-client|java/|okhttp|libwww|httpclient|scrapy|phantomjs",
    re.IGNORECASE,
)
_TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))", re.IGNORECASE)
_MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|opera mini|iemobile|windows phone", re.IGNORECASE)


@lru_cache(maxsize=4096)
def device(user_agent: str) -> str:
    """``"mobile"``, ``"tablet"`` or ``"desktop"`` from a User-Agent (cached per string).

    With the ``[enrich]`` extra, ``ua-parser`` names the device first (a
    tablet it knows wins over the keyword rules).
    """
    family = _ua_device_family(user_agent)
    if family is not None and re.search(r"ipad|tablet|kindle|nexus (7|9|10)", family, re.IGNORECASE):
        return "tablet"
    if _TABLET.search(user_agent):
        return "tablet"
    if _MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


@lru_cache(maxsize=4096)
def bot_reason(user_agent: str | None) -> str | None:
    """``"bot"`` for a known crawler or script, ``"no_user_agent"`` without one, else ``None``."""
    if not user_agent:
        return "no_user_agent"
    if _BOTS.search(user_agent):
        return "bot"
    if _ua_device_family(user_agent) == "Spider":
        return "bot"
    return None


def _ua_device_family(user_agent: str) -> str | None:
    parse = _ua_parser()
    if parse is None:
        return None
    result = parse(user_agent)
    found = getattr(result, "device", None)
    family = getattr(found, "family", None)
    return family if isinstance(family, str) else None


@lru_cache(maxsize=1)
def _ua_parser() -> Any:
    try:
        from ua_parser import parse  # optional extra [enrich]
    except ImportError:
        return None
    return parse


def client_address(peer: str | None, headers: Mapping[str, str], config: WebConfig) -> str | None:
    """The client's address: the peer, or through trusted proxies the last untrusted hop.

    >>> config = WebConfig(trusted_proxies=["10.0.0.1"])
    >>> client_address("10.0.0.1", {"x-forwarded-for": "203.0.113.9, 10.0.0.1"}, config)
    '203.0.113.9'
    >>> client_address("198.51.100.7", {"x-forwarded-for": "203.0.113.9"}, config)
    '198.51.100.7'
    """
    if not config.trusts(peer):
        return peer
    hops = [hop.strip() for hop in headers.get("x-forwarded-for", "").split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        address = hop
        if not config.trusts(hop):
            break
    return address


class Enricher:
    """Country lookups: the trusted header first, then the GeoIP file if configured.

    >>> Enricher(WebConfig(country_header="CF-IPCountry")).country({"cf-ipcountry": "de"}, None)
    'DE'
    """

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self._header = config.country_header.lower() if config.country_header else None
        self._reader: Any = None
        # ua-parser loads its matchers on first use (about a second): now, not inside the first request.
        _ua_device_family("Mozilla/5.0")
        if config.geoip_path is not None:
            import maxminddb  # optional extra [enrich]

            self._reader = maxminddb.open_database(config.geoip_path)

    def country(self, headers: Mapping[str, str], address: str | None) -> str | None:
        """An ISO country code for the request, or ``None`` when no trusted source knows."""
        if self._header is not None:
            value = headers.get(self._header, "").strip().upper()
            if re.fullmatch(r"[A-Z]{2}", value) and value not in ("XX", "T1"):
                return value
        if self._reader is not None and address is not None:
            return self._lookup(address)
        return None

    def _lookup(self, address: str) -> str | None:
        try:
            record = self._reader.get(address)
        except ValueError:
            return None
        if not isinstance(record, Mapping):
            return None
        for key in ("country", "registered_country"):
            entry = record.get(key)
            if isinstance(entry, Mapping) and isinstance(entry.get("iso_code"), str):
                return str(entry["iso_code"])
        return None

    def close(self) -> None:
        """Close the GeoIP file."""
        if self._reader is not None:
            self._reader.close()
