"""The last line of defence between texts of a target and the terminal: no control reaches it.

Every widget shows texts of a snapshot through :func:`heaptui.core.printable.printable` (visible
escapes). This line filter, applied by the app to every rendered line, removes any terminal
control that got past that (a widget that forgot, a text not thought of): the characters it
removes take no cell, so the layout does not move.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from heaptui.core.printable import without_controls


class NoTerminalControls(LineFilter):
    """Drop C0/C1 controls, DEL and bidirectional controls from the text of every segment."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment
            if segment.control or without_controls(segment.text) is segment.text
            else Segment(without_controls(segment.text), segment.style, segment.control)
            for segment in segments
        ]
