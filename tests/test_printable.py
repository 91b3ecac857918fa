"""printable(): terminal controls become visible escapes; normal text is left alone."""

from __future__ import annotations

import pytest

from heaptui.core.printable import printable, without_controls


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;pwned\x07\x1b[2J", "\\x1b]0;pwned\\x07\\x1b[2J"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x00\x7f\x9b", "\\x00\\x7f\\x9b"),  # NUL, DEL, the one-byte CSI of C1
        ("abc\u202edcba", "abc\\u202edcba"),  # a bidi override reorders what follows
        ("line\u2028sep", "line\\u2028sep"),
        ("lone \ud800", "lone \\ud800"),
    ],
)
def test_controls_are_escaped_visibly(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(printable(text)) == shown  # nothing left to escape


@pytest.mark.parametrize(
    "text", ["café", "日本語", "👩\u200d💻", "non\u00a0breaking", "C:\\path\\x1b", "[b]markup[/b]"]
)
def test_normal_text_is_kept(text: str) -> None:
    assert printable(text) is text


def test_non_strings_are_shown_as_text() -> None:
    assert printable(42) == "42" and printable(None) == "None"


def test_without_controls_keeps_the_width() -> None:
    assert without_controls("a\x1b[2Jb\u202ec\ud800") == "a[2Jbc\ufffd"
    clean = "plain"
    assert without_controls(clean) is clean
