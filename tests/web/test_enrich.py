"""Enrichment from a real GeoIP file: a tiny MaxMind database written by hand for the test."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

import pytest

maxminddb = pytest.importorskip("maxminddb", reason="the [enrich] extra (maxminddb) is not installed")

from whoson.web.config import WebConfig  # noqa: E402
from whoson.web.enrich import Enricher, client_address  # noqa: E402


def _utf8(text: str) -> bytes:
    data = text.encode()
    return bytes([0x40 | len(data)]) + data


def _uint(kind: int, value: int, size: int) -> bytes:
    return bytes([(kind << 5) | size]) + value.to_bytes(size, "big")


def _map(items: dict[str, bytes]) -> bytes:
    return bytes([0xE0 | len(items)]) + b"".join(_utf8(k) + v for k, v in items.items())


def write_mmdb(path: Path, network: str, iso_code: str) -> None:
    """An IPv4 MaxMind DB (format 2.0, 24-bit records) with one network mapped to one country."""
    net = ipaddress.ip_network(network)
    bits = format(int(net.network_address), "032b")[: net.prefixlen]
    nodes = len(bits)
    data_pointer = nodes + 16  # the first byte of the data section
    tree = b""
    for depth, bit in enumerate(bits):
        follow = depth + 1 if depth + 1 < nodes else data_pointer
        left, right = (follow, nodes) if bit == "0" else (nodes, follow)
        tree += left.to_bytes(3, "big") + right.to_bytes(3, "big")
    data = _map({"country": _map({"iso_code": _utf8(iso_code)})})
    languages = bytes([0x01, 0x04]) + _utf8("en")  # an array (extended type 11) of one string
    metadata = _map({
        "binary_format_major_version": _uint(5, 2, 1),
        "binary_format_minor_version": _uint(5, 0, 1),
        "build_epoch": bytes([0x08, 0x02]) + struct.pack(">Q", 1_700_000_000),  # uint64, extended type 9
        "database_type": _utf8("Test-Country"),
        "description": _map({"en": _utf8("whoson test")}),
        "ip_version": _uint(5, 4, 1),
        "languages": languages,
        "node_count": _uint(6, nodes, 4),
        "record_size": _uint(5, 24, 1),
    })
    path.write_bytes(tree + b"\x00" * 16 + data + b"\xab\xcd\xefMaxMind.com" + metadata)


class TestGeoIP:
    """Country from the GeoIP file the host points to, the CDN header first."""

    @pytest.fixture
    def enricher(self, tmp_path: Path) -> Any:
        """An enricher over a database that knows 203.0.113.0/24 is in Germany."""
        path = tmp_path / "country.mmdb"
        write_mmdb(path, "203.0.113.0/24", "DE")
        enricher = Enricher(WebConfig(geoip_path=str(path), country_header="CF-IPCountry"))
        yield enricher
        enricher.close()

    def test_lookup(self, enricher: Any) -> None:
        """An address inside the network is DE; outside it, unknown; a bad address, unknown."""
        assert ("DE", None, None) == (enricher.country({}, "203.0.113.9"), enricher.country({}, "198.51.100.1"),
                                      enricher.country({}, "not-an-ip"))

    def test_header_first(self, enricher: Any) -> None:
        """The trusted CDN header wins over the file; a junk header value is ignored."""
        assert ("FR", "DE") == (enricher.country({"cf-ipcountry": "fr"}, "203.0.113.9"),
                                enricher.country({"cf-ipcountry": "XX"}, "203.0.113.9"))

    def test_address_through_trusted_proxy(self, enricher: Any) -> None:
        """Behind a trusted proxy the forwarded address is looked up; from anyone else, the peer."""
        config = WebConfig(trusted_proxies=["10.0.0.0/8"])
        headers = {"x-forwarded-for": "203.0.113.9, 10.0.0.2"}
        behind = client_address("10.0.0.1", headers, config)
        direct = client_address("198.51.100.1", headers, config)
        assert ("DE", None) == (enricher.country({}, behind), enricher.country({}, direct))
