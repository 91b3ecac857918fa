"""A tree whose nodes load their children a batch at a time, as Textual's DirectoryTree does.

The shared half of the object tree (referrers/referents) and the dominator tree: keys, the
cursor moves, loading on expansion and the "… N more" node that loads the next batch.
Subclasses say how to load a batch (``_load``) and what a "more" entry is (``_more_entry``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

if TYPE_CHECKING:
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

BATCH = 200


class LazyEntry(Protocol):
    """What a node of a lazy tree holds: how many children it loaded, or that it is a
    "more" marker continuing ``more_of``."""

    loaded: int
    more_of: Any  # TreeNode of the same tree, or None

    @property
    def is_more(self) -> bool: ...


EntryT = TypeVar("EntryT", bound=LazyEntry)


class LazyTree(Tree[EntryT], Generic[EntryT]):
    """A tree of entries loaded one level (and one batch) at a time."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Select"),
        Binding("right,l", "expand_cursor", "Expand", show=False),
        Binding("left,h", "collapse_cursor", "Collapse", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_home", "Top", show=False),
        Binding("G", "scroll_end", "Bottom", show=False),
    ]

    MORE_HINT = ""  # said after "enter to show N" on a "more" node

    @dataclass
    class ObjectPicked(Message):
        """Enter was pressed on a node standing for an object (``tree`` says which tree)."""

        tree: LazyTree[Any]
        node: int

        @property
        def control(self) -> LazyTree[Any]:
            return self.tree

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.auto_expand = False
        self.guide_depth = 2
        self.snapshot: Snapshot | None = None  # what the tree shows, once shown
        self.index: GraphIndex | None = None

    def _load(self, tree_node: TreeNode[EntryT]) -> None:
        """Add the next batch of children of ``tree_node`` (see :meth:`add_more_node`)."""
        raise NotImplementedError

    def _more_entry(self, parent: TreeNode[EntryT]) -> EntryT:
        """The entry of a "more" node continuing ``parent``'s children."""
        raise NotImplementedError

    def add_more_node(self, parent: TreeNode[EntryT], remaining: int) -> None:
        """Say that ``remaining`` children of ``parent`` are not loaded yet (enter loads them)."""
        shown = min(BATCH, remaining)
        label = Text(f"… {remaining:,} more (enter to show {shown}{self.MORE_HINT})", "italic")
        parent.add_leaf(label, self._more_entry(parent))

    def load_more(self, more_node: TreeNode[EntryT]) -> None:
        """Replace a "more" node with the next batch of its parent's children."""
        entry = more_node.data
        if entry is None or entry.more_of is None:
            return
        parent: TreeNode[EntryT] = entry.more_of
        first_new = len(parent.children) - 1
        more_node.remove()
        self._load(parent)
        if first_new < len(parent.children):
            self.put_cursor_on(parent.children[first_new])

    def put_cursor_on(self, tree_node: TreeNode[EntryT]) -> None:
        """Move the cursor to ``tree_node`` now, even if it was added a moment ago."""
        self._tree_lines  # noqa: B018  (rebuilds the line numbers of freshly added nodes)
        self.move_cursor(tree_node, animate=False)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[EntryT]) -> None:
        event.stop()
        entry = event.node.data
        if entry is not None and not entry.is_more and entry.loaded == 0:
            self._load(event.node)

    def action_expand_cursor(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and not node.is_expanded:
            node.expand()
        elif node.children:
            self.action_cursor_down()

    def action_collapse_cursor(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.children:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent, animate=False)
