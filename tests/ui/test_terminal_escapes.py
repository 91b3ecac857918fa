"""Texts of a snapshot reach the terminal with their control characters escaped (issue 13).

A crafted type name, repr, reference and root label hold ``\\x1b]0;...\\x07\\x1b[2J`` (retitle
the terminal, clear it); the bytes the UI would write to the terminal must not hold them, and
the user sees them as text (``\\x1b``).
"""

from __future__ import annotations

import re

from rich.console import Console
from ui_pilot import settle

from heaptui.core.labels import EDGE_ATTR, EDGE_KEY, ROOT_MODULE
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder
from heaptui.ui.app import HeapApp
from heaptui.ui.source import MemorySource

EVIL = "\x1b]0;pwned\x07\x1b[2J"
SHOWN = "\\x1b]0;pwned\\x07\\x1b[2J"
EVIL_TYPE = f"[b]E[/b]vil{EVIL}"  # also Rich markup: shown as written, not parsed
SIZE = (120, 30)
# What heaptui's own rendering writes: colours and cursor moves (dropped to read the text).
_VISIBLE = re.compile("\x1b\\[[0-9;]*[mH]")


def evil_heap(count: int, source: str) -> Snapshot:
    b = SnapshotBuilder({"argv": [f"app.py{EVIL}"], "pid": 4242, "python": f"3.12{EVIL}"})
    b.node(0x1000, "module", size=72, repr=f"<module {EVIL}>")
    b.node(0x2000, "dict", size=4000, length=count)
    b.edge(0x1000, 0x2000, EDGE_ATTR, f"cache{EVIL}")
    b.root(0x1000, ROOT_MODULE, f"sys.modules['{EVIL}']")
    for i in range(count):
        b.node(0x10000 + i * 0x100, EVIL_TYPE, size=64, repr=f"'{EVIL}{i}'")
        b.edge(0x2000, 0x10000 + i * 0x100, EDGE_KEY, f"'{EVIL}{i}'")
    return Snapshot.from_raw(b.build(), source=source)


def terminal_bytes(app: HeapApp) -> str:
    """What the app would write to a real terminal for its whole screen, as it is now."""
    update = app.screen._compositor.render_full_update()
    return update.render_segments(Console(force_terminal=True, color_system="truecolor"))


async def test_crafted_texts_never_reach_the_terminal_raw() -> None:
    app = HeapApp(
        MemorySource(evil_heap(9, f"after{EVIL}.heap"), evil_heap(2, "base.heap"), label="x")
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screens = [terminal_bytes(app)]  # types, header
        await pilot.press("4")  # growth (the evil type is the suspect)
        await settle(pilot)
        screens.append(terminal_bytes(app))
        await pilot.press("1", "slash", *"vil", "enter", "enter")  # its instances
        await settle(pilot)
        assert app.active_pane == "instances"
        screens.append(terminal_bytes(app))
        await pilot.press("enter", "w")  # its referrers and why it is alive
        await settle(pilot)
        screens.append(terminal_bytes(app))
    for screen in screens:
        assert "\x1b]0;" not in screen and "\x07" not in screen and "\x1b[2J" not in screen
    seen = "\n".join(_VISIBLE.sub("", screen) for screen in screens)
    assert SHOWN in seen  # visibly escaped: the type name, reprs, labels
    assert "[b]E[/b]vil\\x1b" in seen
    assert f"sys.modules['{SHOWN}']" in seen and f"cache{SHOWN}" in seen


def test_the_line_filter_keeps_controls_a_widget_let_through_off_the_terminal() -> None:
    from rich.segment import Segment
    from rich.style import Style
    from textual.color import Color

    from heaptui.ui.terminal_filter import NoTerminalControls

    bold = Style(bold=True)
    line = [Segment("ok "), Segment(f"raw{EVIL}\u202eend", bold), Segment("\ud800")]
    filtered = NoTerminalControls().apply(line, Color(0, 0, 0))
    assert [s.text for s in filtered] == ["ok ", "raw]0;pwned[2Jend", "\ufffd"]
    assert filtered[1].style == bold
    assert sum(s.cell_length for s in filtered) == sum(s.cell_length for s in line)
    assert filtered[0] is line[0]  # clean segments are passed on as they are
