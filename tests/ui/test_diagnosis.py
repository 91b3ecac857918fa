"""Pilot tests of the diagnosis features: retained sizes, the Dominators pane, allocation sites,
growth by allocation site and the referrer-graph export.

Known answers come from the shop heap (tests/ui/ui_heaps.py): session ``i`` alone keeps alive
its ``__dict__`` (232 B) and its body (``1000 + (i % 5) * 100`` B); the ``'GET'`` string is
shared, so it is not retained by any one session.
"""

from __future__ import annotations

from textual.widgets import Static
from ui_heaps import (
    SESSIONS,
    session_addr,
    shop_heap,
    shop_pair,
    traced_shop_heap,
    untraced_session,
)
from ui_pilot import settle

from heaptui.core.format import human_bytes
from heaptui.export.dot import dot_program
from heaptui.ui.app import HeapApp
from heaptui.ui.messages import DominatorsComputed, IndexBuilt, LoadProgressed
from heaptui.ui.source import MemorySource
from heaptui.ui.widgets.dominator_tree import DominatorTree
from heaptui.ui.widgets.growth_table import GrowthTable
from heaptui.ui.widgets.instance_list import InstanceList
from heaptui.ui.widgets.object_tree import ObjectTree
from heaptui.ui.widgets.sites_table import SitesTable
from heaptui.ui.widgets.type_table import TypeTable

NARROW = (80, 24)
WIDE = (120, 40)


def session_retained(i: int) -> int:
    """Bytes session ``i`` keeps alive: itself, its ``__dict__`` and its body."""
    return 56 + (i % 7) * 8 + 232 + 1_000 + (i % 5) * 100


def node_at(app: HeapApp, addr: int) -> int:
    assert app.snapshot is not None
    node = app.snapshot.node_for_addr(addr)
    assert node is not None
    return node


def text_of(app: HeapApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_retained_sizes_arrive_after_the_index_in_types_instances_and_tree():
    seen: list[str] = []

    def record(message):
        if isinstance(message, LoadProgressed) and message.text:
            seen.append(message.text)
        elif isinstance(message, IndexBuilt | DominatorsComputed):
            seen.append(type(message).__name__)

    app = HeapApp(MemorySource(shop_heap(12, 5), None, label="after.heap"))
    async with app.run_test(size=NARROW, message_hook=record) as pilot:
        await settle(pilot)
        # computed after the index, with its progress in the status line
        assert seen.index("IndexBuilt") < seen.index("DominatorsComputed")
        assert any(text.startswith("retained sizes") for text in seen)
        table = app.query_one(TypeTable)
        assert "retained" in [column.value for column in table.columns]
        expected = human_bytes(sum(session_retained(i) for i in range(12)))
        row = table.get_row(str(app.type_index_named("shop.Session")))
        assert expected in [str(cell) for cell in row]
        # r sorts by retained bytes, biggest first; again reverses
        await pilot.press("r")
        retained = [table.retained[app.type_index_named(n)] for n in table.shown_names]
        assert retained == sorted(retained, reverse=True)
        assert table.sort_key == "retained"
        await pilot.press("r")
        retained = [table.retained[app.type_index_named(n)] for n in table.shown_names]
        assert retained == sorted(retained)
        # instances: still largest first by size, the retained column beside the size
        await pilot.press("slash", *"Session", "enter", "enter")
        await settle(pilot)
        instances = app.query_one(InstanceList)
        assert "retained" in instances.render_line(0).text
        first = instances.highlighted_node
        i = next(i for i in range(12) if node_at(app, session_addr(i)) == first)
        assert human_bytes(session_retained(i)) in instances.render_line(1).text
        sizes = [int(app.snapshot.size[n]) for n in instances._listed]
        assert sizes == sorted(sizes, reverse=True)
        # the object pane's title and tree say what each object retains
        await pilot.press("enter")
        await settle(pilot)
        assert f"retains {human_bytes(session_retained(i))}" in text_of(app, "#object-title")
        tree = app.query_one(ObjectTree)
        assert f"retains {human_bytes(session_retained(i))}" in str(tree.root.label)


async def test_dominators_pane_expands_biggest_first_selects_and_shows_why_alive():
    app = HeapApp(MemorySource(shop_heap(12, 5), None, label="after.heap"))
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("5")
        assert app.active_pane == "dominators"
        tree = app.query_one(DominatorTree)
        assert tree.has_focus
        dominators = app.dominators
        assert dominators is not None
        top = [child.data.node for child in tree.root.children]
        retained = [int(dominators.retained[n]) for n in top]
        assert retained == sorted(retained, reverse=True)
        # SESSIONS is held by the module and by a thread's frame: no single root retains it,
        # so it is at the top, retaining every session
        sessions_dict = node_at(app, SESSIONS)
        assert top[0] == sessions_dict
        label = str(tree.root.children[0].label)
        assert "dict" in label and human_bytes(int(dominators.retained[sessions_dict])) in label
        # named by where it hangs: the module global, not only "dict len=12"
        assert "shop.SESSIONS dict" in label
        assert tree.highlighted_node == sessions_dict
        await pilot.press("right")  # expand: the sessions, biggest retained first
        children = tree.root.children[0].children
        kept = [int(dominators.retained[c.data.node]) for c in children]
        assert kept == sorted(kept, reverse=True)
        assert kept[0] == max(session_retained(i) for i in range(12))
        # the 12 sessions, and the 'GET' string they share (no one session retains it)
        types = sorted(app.snapshot.type_name(c.data.node) for c in children)
        assert types == ["shop.Session"] * 12 + ["str"]
        assert "['user:" in str(children[0].label) and "shop.Session" in str(children[0].label)
        await pilot.press("down", "enter")  # select the first session
        await settle(pilot)
        first = children[0].data.node
        assert app.selected == first and app.active_pane == "object"
        assert app.query_one(ObjectTree).root.data.node == first
        # w from the dominators pane: the path to the object under the cursor
        await pilot.press("5", "down", "w")
        await settle(pilot)
        second = children[1].data.node
        assert app.selected == second and app.active_pane == "object"
        why = text_of(app, "#why-alive")
        i = next(i for i in range(12) if node_at(app, session_addr(i)) == second)
        assert f"['user:{i}'] → Session" in why
        await pilot.press("left_square_bracket")  # back in the history, as elsewhere
        assert app.selected == first


async def test_allocation_sites_in_the_object_pane_and_growth_grouped_by_site():
    base = traced_shop_heap(3, 2, source="base.heap")
    after = traced_shop_heap(12, 5)
    app = HeapApp(MemorySource(after, base, label="after.heap"))
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        app.select_object(node_at(app, session_addr(4)))
        app.action_show_pane("object")
        await settle(pilot)
        line = text_of(app, "#alloc-site")
        assert "Allocated at" in line
        assert line.index("shop/app.py:42") < line.index("shop/server.py:10")  # innermost first
        await pilot.press("a")  # every frame, full file names
        assert "/srv/shop/app.py:42" in text_of(app, "#alloc-site")
        assert untraced_session(3)
        app.select_object(node_at(app, session_addr(3)))
        await settle(pilot)
        assert "cpython#101430" in text_of(app, "#alloc-site")
        # growth: the new sessions grouped by where they were allocated
        await pilot.press("4")
        await pilot.press("s")
        await settle(pilot)
        sites = app.query_one(SitesTable)
        assert sites.display and sites.has_focus
        new_traced = sum(not untraced_session(i) for i in range(3, 12))
        assert [g.objects for g in sites.groups] == [new_traced]
        assert str(sites.groups[0].frames[0]) == "/srv/shop/app.py:42"
        title = text_of(app, "#sites-title")
        untraced_new = sum(untraced_session(i) for i in range(3, 12))
        assert f"{untraced_new} without a traceback" in title
        await pilot.press("enter")  # an example object of that site
        await settle(pilot)
        assert app.active_pane == "object"
        assert app.selected == sites.groups[0].sample
        assert app.snapshot.type_name(app.selected) == "shop.Session"
        await pilot.press("4", "escape")
        assert not sites.display
        # no listener has a traceback: say so (and why, on 3.11), no empty table
        growth = app.query_one(GrowthTable)
        growth.move_cursor(row=growth.shown_names.index("shop.Listener"))
        await pilot.press("s")
        await settle(pilot)
        title = text_of(app, "#sites-title")
        assert "none of the 3 new objects" in title and "cpython#101430" in title
        assert not sites.display and growth.has_focus


async def test_export_writes_the_referrer_graph_and_says_where(tmp_path):
    base, after = shop_pair()
    app = HeapApp(MemorySource(after, base, label="after.heap"), export_dir=str(tmp_path))
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        # wide layout: the dominators pane takes the top left, the object pane stays
        await pilot.press("5")
        assert app.query_one("#dominators-pane").display
        assert app.query_one("#object-pane").display
        assert not app.query_one("#types-pane").display
        session = node_at(app, session_addr(5))
        app.select_object(session)
        await settle(pilot)
        # without tracemalloc the object pane says so and how to turn it on
        line = text_of(app, "#alloc-site")
        assert "not recorded" in line and "PYTHONTRACEMALLOC=25" in line
        await pilot.press("3", "a")
        assert "heaptui run --trace" in text_of(app, "#alloc-site")
        await pilot.press("4", "s")  # growth by site without sites: a notice, no table
        assert not app.query_one(SitesTable).display
        await pilot.press("3", "e")
        await settle(pilot)
        dot = tmp_path / f"heaptui-Session-{session_addr(5):x}.dot"
        text = dot.read_text()
        assert text.startswith("digraph") and "Session" in text and "['user:5']" in text
        assert (tmp_path / dot.with_suffix(".svg").name).exists() == (dot_program() is not None)
        notes = app.notes_shown
        assert any(str(dot) in note for note in notes)
        assert any("PYTHONTRACEMALLOC" in note for note in notes)
