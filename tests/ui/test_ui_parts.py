"""Pure parts of the UI: selection history, number formats, type sorting and filtering."""

from __future__ import annotations

from ui_heaps import shop_heap, shop_pair

from heaptui.core.format import clip, human_bytes, signed_bytes, signed_count
from heaptui.model.summary import TypeRow
from heaptui.ui.history import SelectionHistory
from heaptui.ui.source import baseline_mismatch
from heaptui.ui.widgets.growth_table import order_growth
from heaptui.ui.widgets.type_table import filter_rows, sort_rows


def test_history_goes_back_and_forward_like_a_browser():
    history = SelectionHistory()
    assert history.back() is None and history.current is None
    for node in (1, 2, 3):
        history.visit(node)
    history.visit(3)  # repeating the current object adds nothing
    assert len(history) == 3
    assert history.back() == 2
    assert history.back() == 1
    assert history.back() is None
    assert history.forward() == 2
    history.visit(7)  # a new visit drops the forward entries
    assert history.forward() is None
    assert history.back() == 2
    assert history.back() == 1


def test_formats():
    assert human_bytes(0) == "0 B"
    assert human_bytes(1023) == "1023 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert human_bytes(3 * 1024**3) == "3.0 GiB"
    assert signed_bytes(2048) == "+2.0 KiB" and signed_bytes(-80) == "-80 B"
    assert signed_count(1200) == "+1,200" and signed_count(0) == "0"
    assert clip("abcdef", 4) == "abc…" and clip("a\nb", 10) == "a\\nb"


ROWS = [
    TypeRow(0, "dict", 10, 5000, 0.5),
    TypeRow(1, "shop.Session", 300, 3000, 0.3),
    TypeRow(2, "Str", 300, 2000, 0.2),
]


def test_sort_rows_by_each_column_and_reverse():
    assert [r.name for r in sort_rows(ROWS, "size", False)] == ["dict", "shop.Session", "Str"]
    assert [r.name for r in sort_rows(ROWS, "size", True)] == ["Str", "shop.Session", "dict"]
    # equal counts fall back to the name
    assert [r.name for r in sort_rows(ROWS, "count", False)] == ["shop.Session", "Str", "dict"]
    assert [r.name for r in sort_rows(ROWS, "name", False)] == ["dict", "shop.Session", "Str"]
    assert [r.name for r in sort_rows(ROWS, "name", True)] == ["Str", "shop.Session", "dict"]


def test_filter_rows_is_a_case_insensitive_substring():
    assert [r.name for r in filter_rows(ROWS, "S")] == ["shop.Session", "Str"]
    assert [r.name for r in filter_rows(ROWS, "  sess ")] == ["shop.Session"]
    assert len(filter_rows(ROWS, "")) == 3


def test_growth_puts_suspects_first_in_their_order():
    base, after = shop_pair()
    from heaptui.model.diff import growth

    rows = growth(base, after)
    ordered = order_growth(rows, ["shop.Listener", "shop.Session"])
    assert [r.name for r in ordered[:2]] == ["shop.Listener", "shop.Session"]
    assert sorted(r.name for r in ordered) == sorted(r.name for r in rows)


def test_baseline_mismatch_names_both_programs():
    base, after = shop_pair()
    assert baseline_mismatch(base, after) is None
    other = shop_heap(1, 1, source="other.heap")
    other.meta["argv"] = ["worker.py"]
    other.meta["pid"] = 7
    problem = baseline_mismatch(other, after)
    assert problem is not None and "worker.py" in problem and "shop.py" in problem


def test_rows_without_a_repr_say_who_holds_the_object():
    from ui_heaps import GET, LISTENERS, listener_addr

    from heaptui.model.index import GraphIndex
    from heaptui.ui.widgets.instance_list import held_by, instance_line

    snapshot = shop_heap(3, 2)
    index = GraphIndex(snapshot)
    listener = snapshot.node_for_addr(listener_addr(1))
    assert held_by(index, listener) == "held by [1] list"
    assert held_by(index, snapshot.node_for_addr(GET)) == "held by ['method'] dict (+2 more)"
    # a row shows the repr when there is one, else the holder
    assert instance_line(snapshot, listener, True, 60, index).startswith("+ 0x800040")
    assert "<Listener 1>" in instance_line(snapshot, listener, True, 60, index)
    holder = snapshot.node_for_addr(LISTENERS)
    snapshot.repr_of = lambda node: f"list at {int(snapshot.addr[node]):#x}"  # derived repr
    assert "held by ['listeners'] mappingproxy" in instance_line(snapshot, holder, False, 80, index)
    # cut short, the referrer count stays whole
    snapshot.repr_of = lambda node: f"str at {int(snapshot.addr[node]):#x}"
    line = instance_line(snapshot, snapshot.node_for_addr(GET), False, 50, index)
    assert len(line) == 50 and line.rstrip().endswith("(+2 more)") and "…" in line


async def test_type_columns_fit_the_rows_as_soon_as_they_are_set():
    """The squashed-columns race: DataTable measures new rows on its own idle, so a refill
    from the app's handler (the Retained column rebuilds the columns) was painted with the
    columns as narrow as their labels. After a fill the Type column is as wide as its widest
    name at once, before any pause."""
    from ui_pilot import settle

    from heaptui.ui.app import HeapApp
    from heaptui.ui.source import MemorySource
    from heaptui.ui.widgets.type_table import TypeTable

    base, after = shop_pair()
    app = HeapApp(MemorySource(after, base, label="after.heap"), preselect_suspect=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.query_one(TypeTable)
        table.set_retained(None)  # columns rebuilt: as narrow as their labels, then refilled
        name = table.columns["name"]  # type: ignore[index]
        names = [table.get_row_at(i)[0].cell_len for i in range(table.row_count)]
        assert name.content_width == max(name.label.cell_len, *names) > name.label.cell_len
