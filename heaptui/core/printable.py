"""``printable(text)``: a text from a target or a file, made safe to show on a terminal.

Type names, reprs, ``argv`` and error texts come from the program that was measured or from
a snapshot file, so anyone who can name a type or write a file can put ``\\x1b]0;...\\x07``
in them: shown raw, that retitles, clears or rewrites the user's terminal. Every such text
goes through :func:`printable` before a terminal sees it; the control characters become
visible escapes (``\\x1b``, ``\\n``), everything else (accents, CJK, emoji) stays as it is.
JSON output and exported files keep the exact texts. Standard library only.
"""

from __future__ import annotations

import re

__all__ = ["printable", "without_controls"]

# C0 and C1 controls and DEL (the terminal acts on them), lone surrogates (not encodable),
# line/paragraph separators, and the bidirectional controls that reorder what is shown
# ("Trojan Source"). Joiners and other format characters of normal text are kept.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` (anything, made a ``str``) with every terminal control shown as an escape."""
    text = text if isinstance(text, str) else str(text)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def without_controls(text: str) -> str:
    """``text`` with every terminal control removed (a lone surrogate becomes U+FFFD).

    For the last line of defence, where the text is already laid out in cells: the removed
    characters take no cell, so the layout stays as it was (``printable`` is the visible way).
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_removed, text)


def _removed(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group() <= "\udfff" else ""
