"""The first screen is the answer: with a baseline the UI opens on the top leak suspect, its
note (net change, where its new objects pile up) and its why-alive path; at 80 columns the
Growth pane's numbers all fit and long names keep their class name."""

from __future__ import annotations

import numpy as np
from textual.widgets import Static
from ui_heaps import SESSIONS, shop_heap, shop_pair
from ui_pilot import settle

from heaptui.core.format import clip_middle
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder
from heaptui.ui.app import HeapApp
from heaptui.ui.source import MemorySource
from heaptui.ui.widgets.growth_table import GrowthTable
from heaptui.ui.widgets.instance_list import InstanceList
from heaptui.ui.widgets.object_tree import ObjectTree, find_child
from heaptui.ui.widgets.suspect_note import net_text

NARROW = (80, 24)
WIDE = (120, 40)


def leaky_app() -> HeapApp:
    base, after = shop_pair()
    return HeapApp(MemorySource(after, base, label="after.heap"))


def text_of(app: HeapApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_opens_on_the_top_suspect_with_its_note_and_path_at_80_columns():
    app = leaky_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        top = app.suspects[0]
        assert top.name == "shop.Session"
        assert app.active_pane == "object" and app.selected == top.sample
        note = text_of(app, "#suspect-note")
        assert note.startswith(f"Suspect 1 of {len(app.suspects)}: shop.Session +9 objects")
        # the report's sentence, once the dominator tree is known
        sentence = note.splitlines()[1]
        assert sentence.startswith("the dict at ")  # SESSIONS, found by its path from a root
        assert "retains 100% of the new Session objects (9 of 9;" in sentence
        assert text_of(app, "#why-alive").startswith("Why alive:")
        # the holder is on screen right under the object, which has the cursor
        tree = app.query_one(ObjectTree)
        assert tree.cursor_node is tree.root
        holder = tree.root.children[0]
        assert holder.data.on_path
        assert tree.region.height >= 4 and holder.line - tree.scroll_offset.y < tree.region.height
        # no toast over the tree
        assert not app.notes_shown
        # Growth and Instances are on the suspect too
        assert app.query_one(GrowthTable).highlighted_name == "shop.Session"
        assert app.query_one(InstanceList).highlighted_node == top.sample


async def test_wide_opens_with_growth_beside_the_path():
    app = leaky_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        shown = {
            p
            for p in ("types", "growth", "instances", "object")
            if app.query_one(f"#{p}-pane").display
        }
        assert shown == {"growth", "instances", "object"}
        assert app.query_one(GrowthTable).highlighted_name == app.suspects[0].name
        assert app.selected == app.suspects[0].sample


async def test_without_a_baseline_it_opens_on_types():
    app = HeapApp(MemorySource(shop_heap(12, 5), None))
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        assert app.active_pane == "types" and app.selected is None
        assert not app.query_one("#suspect-note").display


async def test_the_note_leaves_with_the_suspect_and_comes_back():
    app = leaky_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        sessions = app.snapshot.node_for_addr(SESSIONS)
        app.select_object(sessions)
        await settle(pilot)
        assert not app.query_one("#suspect-note").display
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.query_one("#suspect-note").display


async def test_growth_numbers_fit_80_columns_and_names_keep_the_class():
    base, after = shop_pair()
    long_name = "werkzeug.datastructures.headers.EnvironHeadersWithAVeryLongName"
    after.type_names[after.type_names.index("shop.Listener")] = long_name
    base.type_names[base.type_names.index("shop.Listener")] = long_name
    app = HeapApp(MemorySource(after, base), preselect_suspect=False)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.query_one(GrowthTable)
        widths = [column.get_render_width(table) for column in table.columns.values()]
        assert sum(widths) <= table.size.width
        row = [str(cell) for cell in table.get_row(long_name)]
        assert row[1].endswith(".EnvironHeadersWithAVeryLongName") and "…" in row[1]
        assert row[2:] == ["+3", "+144 B", "5", "240 B"]  # no number clipped


def test_clip_middle_keeps_the_class_name():
    name = "werkzeug.datastructures.headers.EnvironHeaders"
    assert clip_middle(name, 60) == name
    assert clip_middle(name, 32) == "werkzeug…headers.EnvironHeaders"
    assert clip_middle(name, 16) == "….EnvironHeaders"
    assert clip_middle("x" * 30, 10) == "…" + "x" * 9
    assert all(len(clip_middle(name, w)) <= w for w in range(1, 50))


def test_net_change_says_new_minus_freed():
    assert net_text(346, 491) == "+346 objects (491 new - 145 freed)"
    assert net_text(9, 9) == "+9 objects"


def test_find_child_by_index_key_and_end():
    b = SnapshotBuilder()
    from heaptui.core.labels import EDGE_INDEX, EDGE_KEY

    b.node(0x10, "list", length=3)
    b.node(0x20, "dict", length=3)
    for i in range(3):
        b.node(0x100 + i * 0x10, "str")
        b.edge(0x10, 0x100 + i * 0x10, EDGE_INDEX, i)
        b.edge(0x20, 0x100 + i * 0x10, EDGE_KEY, f"'k{i}'")
    snapshot = Snapshot.from_raw(b.build())
    from heaptui.model.index import GraphIndex

    index = GraphIndex(snapshot)
    _nodes, list_edges = index.referents(snapshot.node_for_addr(0x10))
    _nodes, dict_edges = index.referents(snapshot.node_for_addr(0x20))
    assert find_child(snapshot, list_edges, "2") == 2
    assert find_child(snapshot, list_edges, "end") == 2
    assert find_child(snapshot, list_edges, "7") is None
    assert find_child(snapshot, dict_edges, "k1") == 1
    assert find_child(snapshot, dict_edges, "'k2'") == 2
    assert find_child(snapshot, dict_edges, "nope") is None
    assert find_child(snapshot, np.zeros(0, np.int64), "end") is None
