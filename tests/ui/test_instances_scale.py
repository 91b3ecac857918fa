"""A million instances: the list draws only the lines on screen, wherever the cursor goes."""

from __future__ import annotations

from heaps import million_heap
from ui_pilot import settle

from heaptui.ui.app import HeapApp
from heaptui.ui.source import MemorySource
from heaptui.ui.widgets.instance_list import InstanceList


async def test_a_million_instances_render_only_the_visible_lines():
    snapshot = million_heap()
    app = HeapApp(MemorySource(snapshot, None))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        instances = app.query_one(InstanceList)
        assert instances.row_count == 1_000_000
        drawn: list[int] = []
        original = instances.render_line

        def counting(y: int):
            drawn.append(y)
            return original(y)

        instances.render_line = counting  # type: ignore[method-assign]
        await pilot.press("end")
        await pilot.pause()
        assert instances.cursor == 999_999
        assert 0 < len(drawn) <= instances.size.height
        last = instances.highlighted_node
        assert int(snapshot.size[last]) == int(snapshot.size[instances._listed].min())
        drawn.clear()
        await pilot.press("pageup", "k")
        await pilot.pause()
        assert instances.cursor == 999_999 - (instances.size.height - 2) - 1
        assert len(drawn) <= 2 * instances.size.height
