"""Live view settings: timeouts, signal thresholds and url patterns.

Every threshold is data, so a shop can tune "lingering" per page without code.
Durations accept a :class:`~datetime.timedelta`, a number of seconds or text such as
``"2m"`` (read by :func:`whoson.core.time.parse_duration`).

>>> config = LiveConfig(lingering_by_url=(("*/pricing*", 60),))
>>> config.lingering_for("/pricing").total_seconds(), config.lingering_for("/").total_seconds()
(60.0, 120.0)
>>> config.is_checkout("/cart")
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import attrs

from whoson.core.time import parse_duration
from whoson.live.patterns import UrlPattern, url_matches

__all__ = ["LiveConfig"]


def _positive(_instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, timedelta) and value <= timedelta(0):
        raise ValueError(f"{attribute.name} must be positive, got {value}")
    if isinstance(value, int) and value < 1:
        raise ValueError(f"{attribute.name} must be >= 1, got {value}")


def _patterns(values: Iterable[UrlPattern]) -> tuple[UrlPattern, ...]:
    patterns = tuple(values)
    for pattern in patterns:
        if not isinstance(pattern, (str, re.Pattern)):
            raise TypeError(f"a url pattern must be a glob string or a compiled regex: {pattern!r}")
    return patterns


def _overrides(
    values: Iterable[tuple[UrlPattern, timedelta | float | int]],
) -> tuple[tuple[UrlPattern, timedelta], ...]:
    return tuple((_patterns((pattern,))[0], parse_duration(seconds)) for pattern, seconds in values)


@attrs.frozen(cache_hash=True)
class LiveConfig:
    """How the live view decides presence, sessions and signals.

    * ``presence_timeout``: a visitor is online while their last activity is
      at most this old (and they have not left, see :class:`LiveView`).
    * ``session_timeout``: a gap this long starts a new session (visit).
    * ``lingering`` / ``lingering_by_url``: time on one page before the
      ``lingering`` signal; the first matching ``(pattern, duration)`` override wins.
    * ``revisit_threshold``: page visits of the current url in this session
      before ``revisiting`` (and ``stuck_on_checkout`` on a checkout page).
    * ``checkout_urls`` / ``stuck_on_checkout``: which pages are checkout or
      cart pages, and how long on one before ``stuck_on_checkout``.
    * ``cart_at_risk``: time on site with a non-empty cart and no order.
    * ``expected_wait_window`` / ``expected_wait_samples``: the recent
      first responses :meth:`LiveView.expected_wait` learns from.
    """

    presence_timeout: timedelta = attrs.field(
        default=timedelta(seconds=120), converter=parse_duration, validator=_positive
    )
    session_timeout: timedelta = attrs.field(
        default=timedelta(minutes=30), converter=parse_duration, validator=_positive
    )
    lingering: timedelta = attrs.field(
        default=timedelta(seconds=120), converter=parse_duration, validator=_positive
    )
    lingering_by_url: tuple[tuple[UrlPattern, timedelta], ...] = attrs.field(
        default=(), converter=_overrides
    )
    revisit_threshold: int = attrs.field(default=3, validator=_positive)
    checkout_urls: tuple[UrlPattern, ...] = attrs.field(
        default=("*/checkout*", "*/cart*"), converter=_patterns
    )
    stuck_on_checkout: timedelta = attrs.field(
        default=timedelta(seconds=90), converter=parse_duration, validator=_positive
    )
    cart_at_risk: timedelta = attrs.field(
        default=timedelta(seconds=600), converter=parse_duration, validator=_positive
    )
    expected_wait_window: timedelta = attrs.field(
        default=timedelta(hours=1), converter=parse_duration, validator=_positive
    )
    expected_wait_samples: int = attrs.field(default=50, validator=_positive)

    def lingering_for(self, url: str | None) -> timedelta:
        """The lingering threshold of ``url``: first matching override, else the default."""
        for pattern, threshold in self.lingering_by_url:
            if url_matches(pattern, url):
                return threshold
        return self.lingering

    def is_checkout(self, url: str | None) -> bool:
        """Whether ``url`` is a checkout or cart page."""
        return any(url_matches(pattern, url) for pattern in self.checkout_urls)
