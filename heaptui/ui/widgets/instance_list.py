"""The instances pane: every object of one type, largest first, as a virtual list.

Once retained sizes are known (the dominator tree) each row shows them next to the size.

Only the visible lines are rendered (Textual's line API), so a type with millions of
instances scrolls as fast as one with ten: the list holds one numpy array of node positions
and asks the snapshot for the address, size and repr of the rows on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from heaptui.core.format import clip, human_bytes, object_repr

if TYPE_CHECKING:
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

ADDRESS_WIDTH = 14
SIZE_WIDTH = 10
NEW_MARK = "+"


def held_by(index: GraphIndex, node: int) -> str:
    """``held by ['user:42'] dict (+2 more)``: the first referrer, for objects without a repr."""
    nodes, edges = index.referrers(node)
    if not len(nodes):
        return "held by nothing in the snapshot"
    snapshot = index.snapshot
    text = f"held by {snapshot.edge_label(int(edges[0]))} {snapshot.type_name(int(nodes[0]))}"
    return text + (f" (+{len(nodes) - 1:,} more)" if len(nodes) > 1 else "")


def instance_line(
    snapshot: Snapshot,
    node: int,
    is_new: bool,
    width: int,
    index: GraphIndex | None = None,
    retained: np.ndarray | None = None,
) -> str:
    """One row: new mark, address, size, retained size (when known) and repr (or who holds
    it), cut to ``width`` cells."""
    mark = NEW_MARK if is_new else " "
    addr = f"{int(snapshot.addr[node]):#x}".ljust(ADDRESS_WIDTH)
    size = human_bytes(int(snapshot.size[node])).rjust(SIZE_WIDTH)
    if retained is not None:
        size += " " + human_bytes(int(retained[node])).rjust(SIZE_WIDTH)
    head = f"{mark} {addr} {size}  "
    room = max(0, width - len(head))
    text = object_repr(snapshot, node)
    if not text and index is not None and index.snapshot is snapshot:
        text = held_by(index, node)
        cut = text.rfind(" (+")
        if cut > 0 and len(text) > room:  # the referrer count is never cut: "(+2"
            suffix = text[cut:]
            return (head + clip(text[:cut], room - len(suffix)) + suffix).ljust(width)[:width]
    return (head + clip(text, room)).ljust(width)[:width]


def instances_title(name: str, total: int, shown: int, new: int, net: int | None) -> Text:
    """``str: 491 new of 5,000 instances, largest first (n: all)`` and, when objects were
    freed too, why Growth's number differs: ``net +346 = 491 new - 145 freed``."""
    text = Text()
    text.append(name, "bold")
    if net is None:  # no baseline
        text.append(f": {total:,} instances, largest first")
        return text
    if shown < total:
        text.append(f": {shown:,} new of {total:,} instances, largest first ")
        text.append("(n: all)", "dim")
    else:
        text.append(f": {total:,} instances, {new:,} new (marked {NEW_MARK}) ")
        text.append("(n: new only)" if 0 < new < total else "", "dim")
    if new != net:
        text.append(f"; net {net:+,} = {new:,} new - {new - net:,} freed", "italic")
    return text


def header_line(width: int, with_retained: bool = False) -> str:
    """Column titles matching :func:`instance_line`."""
    size = "size".rjust(SIZE_WIDTH)
    if with_retained:
        size += " " + "retained".rjust(SIZE_WIDTH)
    head = f"  {'address'.ljust(ADDRESS_WIDTH)} {size}  repr, or who holds it"
    return head.ljust(width)[:width]


class InstanceList(ScrollView, can_focus=True):
    """A cursor over an array of node positions, drawing only the lines on screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Select"),
        Binding("n", "app.toggle_new_only", "New only/all"),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup,ctrl+b", "page_up", "Page up", show=False),
        Binding("pagedown,ctrl+f,space", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "instance-list--cursor",
        "instance-list--new",
        "instance-list--header",
    }

    DEFAULT_CSS = """
    InstanceList { overflow-x: hidden; }
    InstanceList > .instance-list--cursor { background: $block-cursor-blurred-background; }
    InstanceList:focus > .instance-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    InstanceList > .instance-list--new { color: $success; }
    InstanceList > .instance-list--header { text-style: bold; color: $text-accent; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    @dataclass
    class Chosen(Message):
        """Enter was pressed on an instance (or it was clicked)."""

        instance_list: InstanceList
        node: int

        @property
        def control(self) -> InstanceList:
            return self.instance_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._snapshot: Snapshot | None = None
        self._listed: np.ndarray = np.zeros(0, dtype=np.int64)
        self._new_mask: np.ndarray | None = None
        self._index: GraphIndex | None = None
        self._retained: np.ndarray | None = None

    # --- data --------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._listed)

    @property
    def highlighted_node(self) -> int | None:
        """Node position under the cursor, or None when the list is empty."""
        if not len(self._listed):
            return None
        return int(self._listed[self.cursor])

    def set_instances(
        self, snapshot: Snapshot | None, nodes: np.ndarray, new_mask: np.ndarray | None
    ) -> None:
        """Show ``nodes`` (positions in ``snapshot``) from the top."""
        self._snapshot = snapshot
        self._listed = nodes
        self._new_mask = new_mask
        self.virtual_size = Size(self.size.width, len(nodes) + 1)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.cursor = 0
        self.refresh()

    def set_index(self, index: GraphIndex | None) -> None:
        """Once references are indexed, rows without a repr say who holds the object."""
        self._index = index
        self.refresh()

    def set_retained(self, retained: np.ndarray | None) -> None:
        """Show each object's retained bytes (an array over the listed snapshot's nodes)."""
        self._retained = retained
        self.refresh()

    def move_to_node(self, node: int) -> bool:
        """Put the cursor on ``node`` if it is in the list."""
        found = np.flatnonzero(self._listed == node)
        if not len(found):
            return False
        self.cursor = int(found[0])
        return True

    # --- rendering ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y == 0:  # column titles stay put
            style = self.get_component_rich_style("instance-list--header")
            line = header_line(width, self._retained is not None)
            return Strip([Segment(line, base + style)], width)
        row = int(self.scroll_offset.y) + y - 1
        snapshot = self._snapshot
        if snapshot is None or row >= len(self._listed):
            return Strip.blank(width, base)
        node = int(self._listed[row])
        is_new = bool(self._new_mask is not None and self._new_mask[node])
        style = base
        if is_new:
            style = style + self.get_component_rich_style("instance-list--new", partial=True)
        if row == self.cursor:
            style = style + self.get_component_rich_style("instance-list--cursor")
        retained = self._retained
        if retained is not None and len(retained) != snapshot.node_count:
            retained = None  # computed for another snapshot
        line = instance_line(snapshot, node, is_new, width, self._index, retained)
        return Strip([Segment(line, style)], width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._listed) + 1)

    # --- cursor ------------------------------------------------------------------------
    @property
    def _page(self) -> int:
        return max(1, self.size.height - 2)

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._listed) - 1)) if len(self._listed) else 0

    def watch_cursor(self, old: int, new: int) -> None:
        top = int(self.scroll_offset.y)
        visible = max(1, self.size.height - 1)
        if new < top:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= top + visible:
            self.scroll_to(y=new - visible + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor_up(self) -> None:
        self.cursor -= 1

    def action_cursor_down(self) -> None:
        self.cursor += 1

    def action_page_up(self) -> None:
        self.cursor -= self._page

    def action_page_down(self) -> None:
        self.cursor += self._page

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self._listed) - 1

    def action_choose(self) -> None:
        node = self.highlighted_node
        if node is not None:
            self.post_message(self.Chosen(self, node))

    def on_click(self, event: Click) -> None:
        if event.y >= 1:
            self.cursor = int(self.scroll_offset.y) + event.y - 1
            if event.chain >= 2:
                self.action_choose()
