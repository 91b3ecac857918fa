"""What the Object pane writes: the title line of an object and the why-alive breadcrumb; and
`PaneMessage`, the sentence a pane shows instead of its content."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual.widgets import Static

from heaptui.core.format import clip, human_bytes, object_repr
from heaptui.core.labels import ROOT_KIND_NAMES
from heaptui.core.printable import printable
from heaptui.ui.widgets.object_tree import Mode, retained_text

if TYPE_CHECKING:
    from heaptui.model.paths import RootPath
    from heaptui.model.snapshot import Snapshot

# Paths longer than PATH_HEAD + PATH_TAIL steps show only their two ends in the breadcrumb.
PATH_HEAD = 6
PATH_TAIL = 6

NOTHING_SELECTED = (
    "No object selected.\n\n"
    "Pick a type in Types (1), press Enter, pick an instance (2) and press Enter: "
    "its referrers appear here. With a baseline, Growth (4) lists the leak suspects."
)


def object_title(
    snapshot: Snapshot,
    node: int,
    mode: Mode,
    is_new: bool,
    retained: np.ndarray | None = None,
) -> Text:
    """``Referrers of myapp.Session 0x7f.. 1.2 KiB retains 4 KiB new: <repr>``."""
    text = Text()
    text.append("Referrers of " if mode == "referrers" else "Referents of ", "bold")
    text.append(printable(snapshot.type_name(node)), "bold cyan")
    text.append(f" {int(snapshot.addr[node]):#x} {human_bytes(int(snapshot.size[node]))}")
    text.append_text(retained_text(retained, snapshot, node))
    if is_new:
        text.append(" new", "bold green")
    shown = object_repr(snapshot, node)
    if shown:
        text.append("  ")
        text.append(clip(shown, 32), "dim")
    return text


def breadcrumb(path: RootPath | None) -> Text:
    """The why-alive path on one line: ``sys.modules['app'] → .cache → ['k'] → Session``.

    A long path (a linked list can be a million links long) shows its first and last steps.
    """
    from heaptui.model.paths import merge_dict_steps

    text = Text()
    text.append("Why alive: ", "bold yellow")
    if path is None:
        text.append("no root reaches this object (it is garbage, or held from outside the heap)")
        return text
    text.append(printable(path.root_label), "bold magenta")
    text.append(f" ({ROOT_KIND_NAMES.get(path.root_kind, '?')} root)", "dim")
    steps = path.steps
    count = len(steps)
    if count <= PATH_HEAD + PATH_TAIL:
        parts = [merge_dict_steps([steps[i] for i in range(count)])]
    else:
        head = merge_dict_steps([steps[i] for i in range(PATH_HEAD)])
        tail = merge_dict_steps([steps[i] for i in range(count - PATH_TAIL, count)])
        parts = [head, tail]
    for number, shown in enumerate(parts):
        if number:
            text.append(f" → … {count - PATH_HEAD - PATH_TAIL:,} more steps …", "italic")
        for step in shown[1:] if number == 0 else shown:
            text.append(" → ", "dim")
            text.append(printable(step.edge or "<ref>"), "bold cyan")
    text.append(" → ", "dim")
    text.append(printable(steps[count - 1].type.rsplit(".", 1)[-1]), "bold")
    return text


class PaneMessage(Static, can_focus=True):
    """A sentence standing in for a pane's content; focusable so the pane's keys work."""
