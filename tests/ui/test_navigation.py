"""Pilot tests: the paths a user takes through types, instances, the object tree and history."""

from __future__ import annotations

from textual.widgets import Static
from ui_heaps import SESSIONS, session_addr
from ui_pilot import settle

from heaptui.ui.app import HeapApp
from heaptui.ui.widgets.instance_list import InstanceList
from heaptui.ui.widgets.object_tree import ObjectTree
from heaptui.ui.widgets.type_table import TypeTable

SIZE = (80, 24)


def node_at(app: HeapApp, addr: int) -> int:
    assert app.snapshot is not None
    node = app.snapshot.node_for_addr(addr)
    assert node is not None
    return node


async def open_type(app: HeapApp, pilot, name: str) -> None:
    """Filter the type table down to ``name`` and press Enter on it."""
    await pilot.press("slash", *name, "enter")
    table = app.query_one(TypeTable)
    assert table.shown_names[0] == name
    await pilot.press("enter")
    await settle(pilot)


async def test_summary_is_sorted_by_bytes_and_header_names_the_snapshot(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(TypeTable)
        sizes = [row.size for row in sorted(app.summary, key=lambda r: -r.size)]
        assert app.summary[0].name == table.shown_names[0]
        assert sizes == sorted(sizes, reverse=True)
        header = str(app.query_one("#header-info", Static).render())
        assert "after.heap" in header and "pid 4242" in header and "py 3.11.7" in header
        assert f"{app.snapshot.node_count:,} objects" in header


async def test_pick_type_then_instance_shows_its_referrers(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_type(app, pilot, "shop.Session")
        assert app.active_pane == "instances"
        instances = app.query_one(InstanceList)
        assert instances.has_focus
        # with a baseline only the new ones are listed at first (9 of 12); n lists all
        assert instances.row_count == 9
        assert all(app.new_mask[n] for n in instances._listed)
        await pilot.press("n")
        await settle(pilot)
        assert instances.row_count == 12
        # largest first
        sizes = [int(app.snapshot.size[n]) for n in instances._listed]
        assert sizes == sorted(sizes, reverse=True)
        await pilot.press("down", "enter")
        await settle(pilot)
        chosen = instances.highlighted_node
        assert app.selected == chosen
        assert app.active_pane == "object"
        tree = app.query_one(ObjectTree)
        assert tree.has_focus
        assert tree.root.data.node == chosen
        labels = [str(child.label) for child in tree.root.children]
        # the session is held by SESSIONS under its key and by its own __dict__ (['me'])
        assert any("['user:" in label and "dict" in label for label in labels)
        assert any("['me']" in label for label in labels)


async def test_expanding_a_referrer_marks_the_cycle(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        session = node_at(app, session_addr(0))
        app.select_object(session)
        app.action_show_pane("object")
        await settle(pilot)
        tree = app.query_one(ObjectTree)
        own_dict = next(c for c in tree.root.children if "['me']" in str(c.label))
        tree.put_cursor_on(own_dict)
        await pilot.press("l")  # expand one level
        await settle(pilot)
        assert own_dict.is_expanded
        # the dict's referrer is the session itself: a cycle, not expandable
        back = next(c for c in own_dict.children if c.data.node == session)
        assert back.data.cycle
        assert "cycle" in str(back.label)
        assert not back.allow_expand


async def test_why_alive_shows_breadcrumb_and_opens_the_tree_to_the_root(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_type(app, pilot, "shop.Session")
        await pilot.press("w")
        await settle(pilot)
        why = str(app.query_one("#why-alive", Static).render())
        assert why.startswith("Why alive:")
        assert "['user:" in why and "Session" in why
        tree = app.query_one(ObjectTree)
        # the object keeps the cursor, in view; its holders read straight down the first
        # children to the root of the path (a module or thread root), all on screen
        assert tree.cursor_node is tree.root and tree.root.data.node == app.selected
        assert tree.scroll_offset.y == 0
        node, line = tree.root, 0
        while node.children and node.children[0].data.on_path:
            node, line = node.children[0], line + 1
            assert node.line == line
        assert app.index.root_kind_of(node.data.node) is not None
        assert node.data.node in (node_at(app, 0x5000), node_at(app, 0x1000))
        assert line < tree.size.height


async def test_toggle_referents_and_enter_on_a_node_selects_it(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sessions = node_at(app, SESSIONS)
        app.select_object(sessions)
        app.action_show_pane("object")
        await settle(pilot)
        tree = app.query_one(ObjectTree)
        await pilot.press("r")
        await settle(pilot)
        assert app.mode == "referents"
        assert "Referents of dict" in str(app.query_one("#object-title", Static).render())
        children = [c.data.node for c in tree.root.children]
        assert node_at(app, session_addr(0)) in children
        assert len(children) == 12
        await pilot.press("down", "enter")
        await settle(pilot)
        assert app.selected == children[0]
        assert tree.root.data.node == children[0]


async def test_back_and_forward_walk_the_selection_history(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = node_at(app, session_addr(0))
        app.select_object(first)
        app.action_show_pane("object")
        await settle(pilot)
        await pilot.press("down", "enter")  # a referrer of the session becomes the selection
        await settle(pilot)
        second = app.selected
        assert second != first
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.selected == first
        assert app.query_one(ObjectTree).root.data.node == first
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.selected == second
        await pilot.press("backspace")
        await settle(pilot)
        assert app.selected == first


async def test_more_node_loads_the_next_batch():
    from ui_heaps import GET, shop_heap

    from heaptui.ui.source import MemorySource
    from heaptui.ui.widgets.object_tree import BATCH

    app = HeapApp(MemorySource(shop_heap(450, 1), None))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.select_object(node_at(app, GET))  # 450 session dicts refer to 'GET'
        app.action_show_pane("object")
        await settle(pilot)
        tree = app.query_one(ObjectTree)
        children = tree.root.children
        assert len(children) == BATCH + 1
        assert children[-1].data.is_more
        assert "250 more" in str(children[-1].label)
        tree.put_cursor_on(children[-1])
        await pilot.press("enter")
        await settle(pilot)
        children = tree.root.children
        assert len(children) == 2 * BATCH + 1
        assert "50 more" in str(children[-1].label)
        assert tree.cursor_node is children[BATCH]  # the first of the new batch
        assert app.selected == node_at(app, GET)  # loading more does not change selection


async def test_a_long_path_opens_the_nearest_holders_and_shows_both_ends():
    from heaptui.core.labels import EDGE_ATTR, ROOT_MODULE
    from heaptui.model.snapshot import Snapshot
    from heaptui.testing import SnapshotBuilder
    from heaptui.ui.source import MemorySource
    from heaptui.ui.widgets.object_tree import PATH_DEPTH

    b = SnapshotBuilder()
    b.node(0x100, "module", repr="chain")
    b.root(0x100, ROOT_MODULE, "sys.modules['chain']")
    previous = 0x100
    for i in range(40):
        addr = 0x1000 + i * 0x10
        b.node(addr, "chain.Link")
        b.edge(previous, addr, EDGE_ATTR, "next")
        previous = addr
    app = HeapApp(MemorySource(Snapshot.from_raw(b.build()), None))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.select_object(node_at(app, previous))
        await pilot.press("w")
        await settle(pilot)
        why = str(app.query_one("#why-alive", Static).render())
        assert "sys.modules['chain']" in why and "more steps" in why
        tree = app.query_one(ObjectTree)
        depth, node = 0, tree.root
        while node.children and node.children[0].data.on_path:
            depth, node = depth + 1, node.children[0]
        assert depth == PATH_DEPTH
