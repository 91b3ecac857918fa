"""The note above the object tree when the object shown is a leak suspect's example.

It says which suspect this is (1 of 3), how its count changed (net = new - freed, so the
Growth pane's ``+346`` and the Instances pane's ``491 new`` agree), and where its new objects
pile up: the report's accumulation sentence, so the first screen is the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from heaptui.core.format import signed_bytes, signed_count
from heaptui.core.printable import printable

if TYPE_CHECKING:
    from heaptui.model.paths import RootPath
    from heaptui.model.suspects import Suspect


def path_edges(path: RootPath) -> str:
    """``sys.modules['shop'] → .SESSIONS``: the root and the references down to the end."""
    from heaptui.model.paths import display_steps

    steps = display_steps(path)
    return printable(" → ".join([path.root_label, *(s.edge or "<ref>" for s in steps[1:])]))


def accumulation_text(suspect: Suspect) -> Text | None:
    """``the dict at sys.modules['shop'] → .SESSIONS retains 100% of the new Session objects
    (8 of 8; 12.0 KiB in all)``; None when the suspect carries no accumulation point."""
    from heaptui.model.suspects import accumulation_parts

    acc = suspect.accumulation
    if acc is None:
        return None
    where = path_edges(acc.path) if acc.path is not None else None
    text = Text()
    for role, part in accumulation_parts(suspect.name, acc, where):
        # the path is already made printable by path_edges
        text.append(part if role == "where" else printable(part), _STYLES[role])
    return text


# How the note shows each piece of the model's accumulation sentence.
_STYLES: dict[str, str | None] = {"holder": "bold", "where": "bold cyan", "counts": "dim", "": None}


def net_text(count_delta: int, new_count: int | None) -> str:
    """``+346 objects (491 new - 145 freed)``: the net change and what it is made of."""
    text = f"{signed_count(count_delta)} objects"
    if new_count is not None and new_count != count_delta:
        text += f" ({new_count:,} new - {new_count - count_delta:,} freed)"
    return text


def suspect_note(
    suspect: Suspect, rank: int, total: int, new_count: int | None, accumulation_known: bool
) -> Text:
    """Two lines: ``Suspect 1 of 3: shop.Session +8 objects, +9.4 KiB since the baseline``
    and where its new objects accumulate (or that it is being worked out)."""
    text = Text()
    text.append(f"Suspect {rank + 1} of {total}: ", "bold red")
    text.append(printable(suspect.name), "bold")
    text.append(f" {net_text(suspect.count_delta, new_count)}, ")
    text.append(f"{signed_bytes(suspect.size_delta)} since the baseline")
    others = [m for m in suspect.members if m != suspect.name]
    if others:  # one leak, one suspect: the types that grew with it are part of it
        text.append("; grown with it: ", "dim")
        text.append(printable(", ".join(others[:4]) + (", …" if len(others) > 4 else "")), "dim")
    text.append("\n")
    sentence = accumulation_text(suspect)
    if sentence is not None:
        text.append_text(sentence)
    elif not accumulation_known:
        text.append("Where the new objects pile up: computing retained sizes…", "italic")
    else:
        text.append(
            "No single object retains most of the new objects; the path below shows one of them.",
            "italic",
        )
    return text


class SuspectNote(Static):
    """The suspect note (hidden when the object shown is not a suspect's example)."""
