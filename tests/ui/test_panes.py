"""Pilot tests: sorting and filtering types, growth, help, palette, layout and error states."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Input, Static
from ui_heaps import shop_heap, shop_pair
from ui_pilot import settle

from heaptui.core.errors import SnapshotError
from heaptui.ui.app import HeapApp
from heaptui.ui.screens.help import HelpScreen, help_table
from heaptui.ui.source import MemorySource
from heaptui.ui.widgets.growth_table import SUSPECT_MARK, GrowthTable
from heaptui.ui.widgets.instance_list import InstanceList
from heaptui.ui.widgets.type_table import TypeTable

SIZE = (80, 24)


class FailingSource:
    """A source whose file turned out not to be a snapshot."""

    label = "broken.heap"

    def fetch(self, progress):
        raise SnapshotError("broken.heap is not a valid heaptui snapshot (bad magic)")


async def test_sort_keys_reorder_and_the_cursor_stays_on_its_type(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(TypeTable)
        await pilot.press("down", "down")
        on = table.highlighted_type
        name = app.snapshot.type_names[on]
        await pilot.press("c")
        by_count = {r.name: r.count for r in app.summary}
        counts = [by_count[n] for n in table.shown_names]
        assert counts == sorted(counts, reverse=True)
        assert table.highlighted_type == on
        await pilot.press("n")
        assert table.shown_names == sorted(table.shown_names, key=str.lower)
        assert table.highlighted_type == on
        await pilot.press("n")  # again: reversed
        assert table.shown_names == sorted(table.shown_names, key=str.lower, reverse=True)
        assert app.snapshot.type_names[table.highlighted_type] == name
        assert "▲" in str(table.columns["name"].label) or "▼" in str(table.columns["name"].label)


async def test_filter_narrows_the_types_and_escape_restores_them(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(TypeTable)
        everything = table.shown_names
        await pilot.press("slash", *"shop.")
        assert table.shown_names == ["shop.Session", "shop.Listener"]
        assert "filter: shop." in app.query_one("#types-pane").border_subtitle
        await pilot.press("enter")
        assert table.has_focus
        assert table.shown_names == ["shop.Session", "shop.Listener"]
        await pilot.press("slash", "escape")
        assert sorted(table.shown_names) == sorted(everything)
        assert table.has_focus


async def test_growth_lists_suspects_first_and_marks_them(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        assert app.active_pane == "growth"
        growth = app.query_one(GrowthTable)
        assert growth.has_focus
        first = growth.shown_names[0]
        assert first in ("shop.Session", "shop.Listener")
        assert first in growth.suspect_names
        assert str(growth.get_row_at(0)[0]) == SUSPECT_MARK
        assert not app.query_one("#no-baseline").display
        await pilot.press("enter")  # Enter lists that type's instances
        await settle(pilot)
        assert app.active_pane == "instances"
        title = str(app.query_one("#instances-title", Static).render())
        assert title.startswith(first) and "new of" in title and "(n: all)" in title


async def test_without_baseline_growth_says_how_to_get_one(app_without_baseline):
    app = app_without_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("4")
        text = str(app.query_one("#no-baseline", Static).render())
        assert app.query_one("#no-baseline").display
        assert not app.query_one(GrowthTable).display
        assert "heaptui open after.heap --baseline base.heap" in text
        await pilot.press("question_mark")  # other keys keep working
        assert isinstance(app.screen, HelpScreen)


async def test_help_screen_lists_the_keys_and_closes(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = app.screen.query_one("#help-text", Static)
        assert shown.region.height > 20  # the table is on screen, not an empty box
        console = Console(width=90, record=True, file=io.StringIO())
        console.print(help_table())
        text = console.export_text()
        for expected in ("why alive", "find a type", "referrers", "back to the previously"):
            assert expected in text.lower()
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_runs_an_action(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"show growth")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.active_pane == "growth"


async def test_number_keys_switch_panes_at_80_columns(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, pane in (("2", "instances"), ("3", "object"), ("4", "growth"), ("1", "types")):
            await pilot.press(key)
            assert app.active_pane == pane
            shown = [
                p
                for p in ("types", "instances", "object", "growth")
                if app.query_one(f"#{p}-pane").display
            ]
            assert shown == [pane]
        await pilot.press("tab")
        assert app.active_pane == "instances"
        assert app.query_one(InstanceList).has_focus


async def test_wide_terminal_shows_three_panes_at_once(app_with_baseline):
    app = app_with_baseline
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        shown = {
            p
            for p in ("types", "instances", "object", "growth")
            if app.query_one(f"#{p}-pane").display
        }
        assert shown == {"types", "instances", "object"}
        await pilot.press("4")  # growth takes the place of types
        shown = {
            p
            for p in ("types", "instances", "object", "growth")
            if app.query_one(f"#{p}-pane").display
        }
        assert shown == {"growth", "instances", "object"}
        types = app.query_one("#growth-pane").region
        objects = app.query_one("#object-pane").region
        assert objects.x > types.x and objects.height > types.height


async def test_load_error_is_shown_as_a_message():
    app = HeapApp(FailingSource())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        error = app.query_one("#error", Static)
        assert error.display
        assert "bad magic" in str(error.render())
        assert not app.query_one("#panes").display
        assert app.load_error is not None


async def test_load_error_ends_the_app_when_asked():
    app = HeapApp(FailingSource(), exit_on_error=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert app.return_code == 2
    assert "bad magic" in (app.load_error or "")


async def test_baseline_of_another_program_is_an_error():
    base = shop_heap(3, 2, source="base.heap")
    base.meta["argv"] = ["other.py"]
    base.meta["pid"] = 1
    app = HeapApp(MemorySource(shop_heap(5, 2), base))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        text = str(app.query_one("#error", Static).render())
        assert "another program" in text and "other.py" in text and "shop.py" in text


async def test_top_suspect_is_preselected_with_its_path():
    base, after = shop_pair()
    app = HeapApp(MemorySource(after, base), preselect_suspect=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.active_pane == "object"
        assert app.selected is not None
        name = app.snapshot.type_name(app.selected)
        assert name == app.suspects[0].name
        assert name.startswith("shop.")
        why = str(app.query_one("#why-alive", Static).render())
        assert why.startswith("Why alive:") and name.split(".")[-1] in why
        assert app.query_one(InstanceList).highlighted_node == app.selected


async def test_filter_typed_in_one_burst_lands_in_the_field(app_with_baseline):
    """Keys that arrive together (a fast typist, a paste, tmux send-keys) all reach the filter."""
    from textual import events

    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.post_message(events.Key("slash", "/"))
        for char in "listen":
            app.post_message(events.Key(char, char))
        await settle(pilot)
        assert app.query_one("#type-filter", Input).value == "listen"
        assert app.query_one(TypeTable).shown_names == ["shop.Listener"]


async def test_pane_key_then_moves_typed_in_one_burst_go_to_the_new_pane(app_with_baseline):
    from textual import events

    app = app_with_baseline
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("2", "j", "j"):
            app.post_message(events.Key(key, key))
        await settle(pilot)
        assert app.active_pane == "instances"
        assert app.query_one(InstanceList).cursor == 2
        assert app.query_one(TypeTable).cursor_coordinate.row == 0
        await pilot.press("slash", "4")  # a digit typed into the filter stays text
        assert app.active_pane == "types"
        assert app.query_one("#type-filter", Input).value == "4"


async def test_type_names_with_brackets_are_shown_as_text():
    """Names and reprs come from the user's program: "[bold]" in them is text, not markup."""
    from heaptui.model.snapshot import Snapshot
    from heaptui.testing import SnapshotBuilder

    b = SnapshotBuilder()
    b.node(0x100, "app.Box[bold]", repr="[red]not red[/red]")
    app = HeapApp(MemorySource(Snapshot.from_raw(b.build(), source="[x].heap"), None))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        title = str(app.query_one("#instances-title", Static).render())
        assert title.startswith("app.Box[bold]: 1 instances")
        assert "[x].heap" in str(app.query_one("#header-info", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        assert "[red]not red[/red]" in str(app.query_one("#object-title", Static).render())


async def test_resizing_switches_between_one_pane_and_three(app_with_baseline):
    app = app_with_baseline

    def shown() -> set[str]:
        panes = ("types", "instances", "object", "growth")
        return {p for p in panes if app.query_one(f"#{p}-pane").display}

    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown() == {"types"}
        await pilot.resize_terminal(150, 40)
        await pilot.pause()
        assert shown() == {"types", "instances", "object"}
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert shown() == {"types"}
