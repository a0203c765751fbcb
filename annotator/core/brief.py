"""Short text for long lists: a few items named, the rest counted.

A flag over 1,193 BRCA2 events must not print a 60,000-character line; the
console summary and the HTML report show ``a, b, c and 1,190 more`` while the
JSON document keeps every member.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

BRIEF_ITEMS = 3
_PAREN_LIST = re.compile(r"\(([^()]*)\)")


def brief_list(items: Sequence[str], limit: int = BRIEF_ITEMS) -> str:
    """``a, b, c and N more`` (all of them when there are at most ``limit + 1``)."""
    if len(items) <= limit + 1:
        return ", ".join(items)
    return f"{', '.join(items[:limit])} and {len(items) - limit:,} more"


def brief_message(message: str, limit: int = BRIEF_ITEMS) -> str:
    """``message`` with every parenthesised comma list longer than ``limit + 1`` shortened,
    and the leading list of a conflict or caveat (``knowledge.matcher``: "A, B, C vs
    strategy (offered for X, Y): why")."""

    def shorten(m: re.Match[str]) -> str:
        items = [x.strip() for x in m.group(1).split(",")]
        return f"({brief_list(items, limit)})" if len(items) > limit + 1 else m.group(0)

    head, vs, rest = message.partition(" vs ")
    if vs and "(" not in head:
        items = [x.strip() for x in head.split(",")]
        if len(items) > limit + 1:
            message = f"{brief_list(items, limit)}{vs}{rest}"
    return _PAREN_LIST.sub(shorten, message)
