"""The keys the user is told about are the keys the app has.

The help screen (``?``) and the README's key table are written by hand: every key they name
must be a real binding of the pane they name it in, and every row of the README table is
pressed here and does what the row says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Static
from ui_heaps import SESSIONS, session_addr, shop_heap, shop_pair, traced_shop_heap
from ui_pilot import settle

from heaptui.ui.app import HeapApp
from heaptui.ui.keys import KEY_SECTIONS
from heaptui.ui.live import LiveSession
from heaptui.ui.panes.object import ObjectPane
from heaptui.ui.panes.types import FilterInput
from heaptui.ui.screens.help import HelpScreen
from heaptui.ui.source import MemorySource
from heaptui.ui.widgets.alloc_site import AllocSite
from heaptui.ui.widgets.dominator_tree import DominatorTree
from heaptui.ui.widgets.growth_table import GrowthTable
from heaptui.ui.widgets.instance_list import InstanceList
from heaptui.ui.widgets.object_tree import ObjectTree
from heaptui.ui.widgets.sites_table import SitesTable
from heaptui.ui.widgets.type_table import TypeTable

SIZE = (80, 24)
README = Path(__file__).resolve().parents[2] / "README.md"

# Where the keys of each help section are bound (the app's own keys work everywhere).
SECTION_WIDGETS: dict[str, list[type]] = {
    "Everywhere": [],
    "Types (1)": [TypeTable, FilterInput],
    "Instances (2)": [InstanceList],
    "Object (3)": [ObjectPane, ObjectTree],
    "Growth (4)": [GrowthTable, SitesTable],
    "Dominators (5)": [DominatorTree],
    "Live (heaptui attach)": [LiveSession],
}
# How the help writes a key -> Textual's key name.
KEY_NAMES = {
    "↑": "up",
    "↓": "down",
    "←": "left",
    "→": "right",
    "[": "left_square_bracket",
    "]": "right_square_bracket",
    "?": "question_mark",
    "/": "slash",
    ".": "full_stop",
    ",": "comma",
    "pgup": "pageup",
    "pgdn": "pagedown",
}


def bound_keys(*classes: type) -> set[str]:
    """Every key bound on ``classes`` (with their bases), the app's keys and ctrl+p."""
    keys = {App.COMMAND_PALETTE_BINDING}
    for cls in (HeapApp, *classes):
        keys.update(cls._merged_bindings.key_to_bindings)  # type: ignore[attr-defined]
    return keys


def help_keys(text: str) -> list[str]:
    """``"[  or  backspace"`` -> ``["left_square_bracket", "backspace"]``."""
    tokens = [t for t in text.split() if t not in ("or", "/")]
    return [KEY_NAMES.get(token, token) for token in tokens]


def test_every_key_in_the_help_is_a_real_binding_of_its_pane():
    assert set(KEY_SECTIONS) == set(SECTION_WIDGETS), "a help section without widgets here"
    for section, entries in KEY_SECTIONS.items():
        bound = bound_keys(*SECTION_WIDGETS[section])
        for entry in entries:
            for key in help_keys(entry.keys):
                assert key in bound, f"help says {entry.keys!r} in {section}: {key} is unbound"


def test_help_keys_parse_as_expected():
    # the check above is only as good as this reading of the help's key column
    assert help_keys("[  or  backspace") == ["left_square_bracket", "backspace"]
    assert help_keys("tab / shift+tab") == ["tab", "shift+tab"]
    assert help_keys(". ,") == ["full_stop", "comma"]
    assert "not_a_key" not in bound_keys(*(w for ws in SECTION_WIDGETS.values() for w in ws))


def readme_rows() -> list[tuple[str, str]]:
    """The README's key table: (keys cell, meaning) per row."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| key | what it does |") :].split("\n\n", 1)[0]
    rows = []
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append((cells[0], cells[1]))
    return rows


def readme_keys(cell: str) -> list[str]:
    """`` `1`-`5`, `tab` `` -> ``["1", "2", "3", "4", "5", "tab"]`` as Textual key names."""
    keys: list[str] = []
    for first, last in re.findall(r"`([^`]+)`-`([^`]+)`", cell):
        keys += [str(n) for n in range(int(first), int(last) + 1)]
    cell = re.sub(r"`[^`]+`-`[^`]+`", "", cell)
    keys += [KEY_NAMES.get(k, k) for k in re.findall(r"`([^`]+)`", cell)]
    return keys


def test_every_key_in_the_readme_is_bound():
    bound = bound_keys(*(w for widgets in SECTION_WIDGETS.values() for w in widgets))
    for cell, _meaning in readme_rows():
        for key in readme_keys(cell):
            assert key in bound, f"README row {cell!r}: {key} is not a key of the app"


# --- each README row, pressed --------------------------------------------------------------
Check = Callable[[HeapApp, object], Awaitable[None]]


def leaky(preselect: bool = False) -> HeapApp:
    base, after = shop_pair()
    return HeapApp(MemorySource(after, base, label="after.heap"), preselect_suspect=preselect)


def node_at(app: HeapApp, addr: int) -> int:
    assert app.snapshot is not None
    node = app.snapshot.node_for_addr(addr)
    assert node is not None
    return node


async def panes(app, pilot):
    for key, pane in zip(
        "12345", ("types", "instances", "object", "growth", "dominators"), strict=True
    ):
        await pilot.press(key)
        assert app.active_pane == pane
    await pilot.press("tab")
    assert app.active_pane == "types"


async def suspects(app, pilot):
    assert len(app.suspects) >= 2
    assert app.selected == app.suspects[0].sample  # landed on the first
    await pilot.press("full_stop")
    await settle(pilot)
    assert app.selected == app.suspects[1].sample and app.suspect_rank == 1
    note = str(app.query_one("#suspect-note", Static).render())
    assert note.startswith(f"Suspect 2 of {len(app.suspects)}: {app.suspects[1].name}")
    await pilot.press("comma")
    await settle(pilot)
    assert app.selected == app.suspects[0].sample and app.suspect_rank == 0


async def find_and_sort(app, pilot):
    table = app.query_one(TypeTable)
    await pilot.press("slash", *"listen", "enter")
    assert table.shown_names == ["shop.Listener"]
    await pilot.press("slash", "ctrl+u", "enter")  # empty: every type again
    for key, sort in (("b", "size"), ("c", "count"), ("n", "name"), ("r", "retained")):
        await pilot.press(key)
        assert table.sort_key == sort


async def enter(app, pilot):
    await pilot.press("slash", *"Session", "enter", "enter")
    await settle(pilot)
    assert app.active_pane == "instances"
    await pilot.press("enter")
    await settle(pilot)
    assert app.active_pane == "object"
    assert app.selected == app.query_one(InstanceList).highlighted_node


async def new_only(app, pilot):
    await pilot.press("slash", *"Session", "enter", "enter")
    await settle(pilot)
    instances = app.query_one(InstanceList)
    assert instances.row_count == 9  # the new ones of 12
    await pilot.press("n")
    await settle(pilot)
    assert instances.row_count == 12
    await pilot.press("n")
    await settle(pilot)
    assert instances.row_count == 9


async def referrers_referents(app, pilot):
    app.select_object(node_at(app, SESSIONS))
    app.action_show_pane("object")
    await settle(pilot)
    await pilot.press("r")
    assert app.mode == "referents"
    await pilot.press("r")
    assert app.mode == "referrers"


async def why_alive(app, pilot):
    app.select_object(node_at(app, session_addr(7)))
    await pilot.press("w")
    await settle(pilot)
    why = str(app.query_one("#why-alive", Static).render())
    assert why.startswith("Why alive:") and "['user:7'] → Session" in why
    tree = app.query_one(ObjectTree)
    assert app.active_pane == "object" and tree.cursor_node is tree.root
    assert tree.root.children[0].data.on_path  # the holder, just below the object


async def jump(app, pilot):
    app.select_object(node_at(app, SESSIONS))
    app.action_show_pane("object")
    await settle(pilot)
    await pilot.press("r")  # referents: the 450 sessions, 200 loaded
    tree = app.query_one(ObjectTree)
    assert len(tree.root.children) == 201
    await pilot.press("J", *"user:321", "enter")
    await settle(pilot)
    cursor = tree.cursor_node
    assert cursor.data.node == node_at(app, session_addr(321))
    assert str(tree.root.children[0].label).startswith("… 321 earlier")
    await pilot.press("J", *"end", "enter")
    await settle(pilot)
    assert tree.cursor_node.data.node == node_at(app, session_addr(449))


async def history(app, pilot):
    first, second = node_at(app, session_addr(1)), node_at(app, session_addr(2))
    app.select_object(first)
    app.select_object(second)
    await pilot.press("left_square_bracket")
    assert app.selected == first
    await pilot.press("right_square_bracket")
    assert app.selected == second
    await pilot.press("backspace")
    assert app.selected == first


async def alloc_and_sites(app, pilot):
    app.select_object(node_at(app, session_addr(0)))
    app.action_show_pane("object")
    await settle(pilot)
    site = app.query_one(AllocSite)
    short = str(site.render())
    await pilot.press("a")
    assert str(site.render()) != short and "frames" in str(site.render())
    await pilot.press("4")
    app.query_one(GrowthTable).select_name("shop.Session")
    await pilot.press("s")
    await settle(pilot)
    assert app.query_one(SitesTable).display


async def export(app, pilot):
    app.select_object(node_at(app, session_addr(0)))
    await pilot.press("e")
    await settle(pilot)
    assert any(name.endswith(".dot") for name in os.listdir(app.export_dir))


async def help_and_quit(app, pilot):
    await pilot.press("question_mark")
    assert isinstance(app.screen, HelpScreen)
    await pilot.press("escape")
    assert not isinstance(app.screen, HelpScreen)
    await pilot.press("q")
    await pilot.pause()
    assert app.return_code == 0


def traced_app(tmp: str) -> HeapApp:
    base = traced_shop_heap(3, 2, source="base.heap")
    return HeapApp(MemorySource(traced_shop_heap(12, 5), base), preselect_suspect=False)


# README row (its keys cell, verbatim) -> (the app to press it in, the check).
ROWS: dict[str, tuple[Callable[[str], HeapApp], Check]] = {
    "`1`-`5`, `tab`": (lambda tmp: leaky(), panes),
    "`.` `,`": (lambda tmp: leaky(preselect=True), suspects),
    "`/`, `b` `c` `n` `r`": (lambda tmp: leaky(), find_and_sort),
    "`enter`": (lambda tmp: leaky(), enter),
    "`n` (instances)": (lambda tmp: leaky(), new_only),
    "`r` (object pane)": (lambda tmp: leaky(), referrers_referents),
    "`w`": (lambda tmp: leaky(), why_alive),
    "`J` (object pane)": (
        lambda tmp: HeapApp(MemorySource(shop_heap(450, 1), None), preselect_suspect=False),
        jump,
    ),
    "`[` `]`, `backspace`": (lambda tmp: leaky(), history),
    "`a`, `s`": (traced_app, alloc_and_sites),
    "`e`": (
        lambda tmp: HeapApp(
            MemorySource(shop_heap(3, 1), None), preselect_suspect=False, export_dir=tmp
        ),
        export,
    ),
    "`?`, `q`": (lambda tmp: leaky(), help_and_quit),
}


def test_every_readme_row_has_a_check():
    assert [cell for cell, _ in readme_rows()] == list(ROWS)


@pytest.mark.parametrize("row", list(ROWS))
async def test_readme_key_does_what_it_says(row, tmp_path):
    make, check = ROWS[row]
    app = make(str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await check(app, pilot)
