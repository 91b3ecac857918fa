"""The Instances pane: the objects of the chosen type, listed in a worker (there may be
millions), only the new ones by default when there is a baseline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from heaptui.core.printable import printable
from heaptui.ui.messages import InstancesListed
from heaptui.ui.widgets.instance_list import InstanceList, instances_title

if TYPE_CHECKING:
    from heaptui.model.snapshot import Snapshot
    from heaptui.ui.view import SnapshotView


class InstancesPane(Vertical):
    """A title saying what is listed, and the list."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: SnapshotView | None = None
        self.type_index: int | None = None  # the type listed (or being listed)
        self.new_only = True  # only the new objects (when there is a baseline)
        self._cursor_after_listing: int | None = None

    def compose(self) -> ComposeResult:
        yield Static("Pick a type in Types (1) and press Enter.", id="instances-title")
        yield InstanceList(id="instances")

    @property
    def instance_list(self) -> InstanceList:
        return self.query_one(InstanceList)

    @property
    def focus_target(self) -> Widget:
        return self.instance_list

    @property
    def highlighted_node(self) -> int | None:
        return self.instance_list.highlighted_node

    def reset(self, view: SnapshotView) -> None:
        """A new snapshot: nothing listed, no index, no retained sizes yet."""
        self.view = view
        self.type_index = None
        self.instance_list.set_index(None)
        self.instance_list.set_retained(None)

    def move_after_listing(self, node: int | None) -> None:
        """Put the cursor on ``node`` once the next listing arrives."""
        self._cursor_after_listing = node

    def list_type(self, type_index: int) -> None:
        """List the instances of ``type_index`` (in a worker: there may be millions)."""
        if self.view is None:
            return
        snapshot = self.view.snapshot
        self.type_index = type_index
        name = snapshot.type_names[type_index]
        self.query_one("#instances-title", Static).update(
            Text(f"{printable(name)}: listing instances…")
        )
        # Empty until listed: keys pressed meanwhile must not move a cursor over another type.
        self.instance_list.set_instances(None, np.zeros(0, np.int64), None)
        self._list_instances(snapshot, type_index, self.view.new_mask, self.new_only)

    @work(thread=True, exclusive=True, group="instances")
    def _list_instances(
        self,
        snapshot: Snapshot,
        type_index: int,
        new_mask: np.ndarray | None,
        new_only: bool,
    ) -> None:
        from heaptui.model.summary import instances_of

        nodes = instances_of(snapshot, type_index)
        total = len(nodes)
        new = total
        if new_mask is not None and len(nodes):
            new = int(np.count_nonzero(new_mask[nodes]))
            if new_only and new:
                nodes = nodes[new_mask[nodes]]
            elif len(nodes) > 1:
                # among objects of equal size, the new ones (likely the leak) come first
                order = np.lexsort((~new_mask[nodes], -snapshot.size[nodes].astype(np.int64)))
                nodes = nodes[order]
        self.post_message(InstancesListed(snapshot, type_index, nodes, total, new))

    def on_instances_listed(self, message: InstancesListed) -> None:
        message.stop()
        view = self.view
        if view is None or message.snapshot is not view.snapshot:
            return
        if message.type_index != self.type_index:
            return
        snapshot, nodes = message.snapshot, message.nodes
        name = snapshot.type_names[message.type_index]
        self.query_one("#instances-title", Static).update(
            instances_title(
                printable(name), message.total, len(nodes), message.new, view.net_change(name)
            )
        )
        instances = self.instance_list
        instances.set_instances(snapshot, nodes, view.new_mask)
        if self._cursor_after_listing is not None:
            instances.move_to_node(self._cursor_after_listing)
            self._cursor_after_listing = None

    def toggle_new_only(self) -> None:
        """Only the new objects of the type, or all of them."""
        if self.view is None or self.view.new_mask is None:
            self.notify("Every object is new without a baseline.", timeout=3)
            return
        self.new_only = not self.new_only
        node = self.highlighted_node
        if self.type_index is not None:
            self.move_after_listing(node)
            self.list_type(self.type_index)
