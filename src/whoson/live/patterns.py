"""URL patterns: a string is a glob, a compiled regular expression is searched.

Globs use :mod:`fnmatch` syntax, case-sensitive, against the whole url as the
host sent it, so ``"*/checkout*"`` matches ``/checkout`` and
``https://shop.example/checkout?step=2`` alike. A compiled regex matches when
:meth:`re.Pattern.search` finds it anywhere in the url.

>>> url_matches("*/checkout*", "https://shop.example/checkout?step=2")
True
>>> url_matches(re.compile(r"^/pricing\\b"), "/pricing/team")
True
>>> url_matches("/pricing", "/pricing/team")
False
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Mapping
from typing import Any, TypeAlias

from whoson.core.errors import ConfigError

__all__ = ["UrlPattern", "describe_pattern", "pattern_from_data", "url_matches"]

UrlPattern: TypeAlias = str | re.Pattern[str]
"""A glob string or a compiled regular expression."""


@functools.lru_cache(maxsize=4096)
def _glob(glob: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(glob))


def url_matches(pattern: UrlPattern, url: str | None) -> bool:
    """Whether ``url`` matches ``pattern`` (never when there is no url). O(len(url)).

    >>> url_matches("*/cart*", None)
    False
    """
    if url is None:
        return False
    if isinstance(pattern, str):
        return _glob(pattern).match(url) is not None
    return pattern.search(url) is not None


def describe_pattern(pattern: UrlPattern) -> str:
    """A short readable form: the glob itself, or ``/regex/``.

    >>> describe_pattern(re.compile("^/help")), describe_pattern("*/help*")
    ('/^/help/', '*/help*')
    """
    return pattern if isinstance(pattern, str) else f"/{pattern.pattern}/"


def pattern_from_data(value: Any, where: str) -> UrlPattern:
    """Read a pattern from a rule or config file: a string glob or ``{regex = "..."}``.

    ``where`` names the setting in the :class:`~whoson.core.errors.ConfigError`.

    >>> pattern_from_data({"regex": "^/pricing"}, "url").pattern
    '^/pricing'
    >>> pattern_from_data({"regex": "("}, "rule 'r': when.url")
    Traceback (most recent call last):
    ...
    whoson.core.errors.ConfigError: rule 'r': when.url: invalid regex '(': missing ), ...
    """
    if isinstance(value, str) and value:
        return value
    if isinstance(value, re.Pattern):
        return value
    if isinstance(value, Mapping) and set(value) == {"regex"} and isinstance(value["regex"], str):
        try:
            return re.compile(value["regex"])
        except re.error as err:
            raise ConfigError(f"{where}: invalid regex {value['regex']!r}: {err}") from None
    raise ConfigError(
        f"{where}: must be a glob string or a table {{regex = \"...\"}} (got {value!r})"
    )
