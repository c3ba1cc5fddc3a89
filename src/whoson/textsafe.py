"""Make text that came from event data safe to print.

Visitor ids, urls, names, agents and feedback come from browsers and hosts:
they may hold terminal escape sequences, bidirectional overrides or rich
markup. Everything whoson prints from event data goes through one of these
functions first.

>>> terminal("bad\\x1b[31mred\\x07")
'bad\\\\x1b[31mred\\\\x07'
>>> markup("[link=http://x]click[/link]")
'\\\\[link=http://x]click\\\\[/link]'
"""

from __future__ import annotations

import re

__all__ = ["markup", "terminal"]

# C0 controls (but not plain space), DEL, C1 controls, and the Unicode
# format characters that reorder or hide text (bidi overrides, isolates,
# zero-width joiners are left alone only where harmless: we escape them all).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str) -> str:
    """``text`` with every control, bidi-override and lone-surrogate character escaped.

    Cost: one regular-expression pass, O(len(text)).

    >>> terminal("line\\nbreak\\ttab")
    'line\\\\x0abreak\\\\x09tab'
    >>> terminal("caf\\u00e9 \\u202eevil")
    'café \\\\u202eevil'
    """
    return _UNSAFE.sub(_escape, text)


def markup(text: str) -> str:
    """``text`` made safe for terminals and inert as rich console markup.

    Square brackets that could open a markup tag are escaped with a backslash,
    as ``rich.markup.escape`` does, after :func:`terminal`.

    >>> markup("[/]")
    '\\\\[/]'
    >>> markup("a\\\\[b]")
    'a\\\\\\\\\\\\[b]'
    """
    safe = terminal(text)
    # rich treats a backslash before '[' as an escape; double a trailing run first.
    safe = re.sub(r"(\\*)(\[)", lambda m: m.group(1) * 2 + "\\[", safe)
    return safe
