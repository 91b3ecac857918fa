"""Short text forms of numbers shown in the UI: byte sizes, counts, signed deltas, clipping."""

from __future__ import annotations

from typing import Any, Protocol

from heaptui.core.printable import printable


class ShowsObjects(Protocol):
    """What :func:`object_repr` reads of a snapshot (the model's ``Snapshot`` is one)."""

    addr: Any

    def repr_of(self, node: int) -> str: ...

    def type_name(self, node: int) -> str: ...


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_bytes(n: int) -> str:
    """``1536`` -> ``"1.5 KiB"``; exact below 1 KiB so small objects stay readable."""
    value = float(abs(n))
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    sign = "-" if n < 0 else ""
    if unit == 0:
        return f"{sign}{int(value)} B"
    return f"{sign}{value:.1f} {_UNITS[unit]}"


def signed_bytes(n: int) -> str:
    """Byte delta with an explicit sign: ``+1.5 KiB``, ``-80 B``, ``0 B``."""
    return ("+" if n > 0 else "") + human_bytes(n)


def signed_count(n: int) -> str:
    """Count delta with an explicit sign and thousands separators: ``+1,200``."""
    return f"{n:+,}" if n else "0"


def clip(text: str, width: int) -> str:
    """``text`` on one line (made :func:`printable`), cut to ``width`` cells with an ellipsis
    when it is longer."""
    text = printable(text.replace("\t", " "))  # a text of the target: no terminal controls
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…"


def object_repr(snapshot: ShowsObjects, node: int) -> str:
    """The repr of ``node`` without repeating what the row already shows.

    A repr the model derived (``shop.Session at 0x7f..``, ``dict len=3``) repeats the type
    and address next to it; only the length is worth keeping (``len=3``), else nothing.
    """
    text = snapshot.repr_of(node)
    name = snapshot.type_name(node)
    if text == f"{name} at {int(snapshot.addr[node]):#x}":
        return ""
    if text.startswith(name + " len="):
        return text[len(name) + 1 :]
    return text


def clip_middle(name: str, width: int) -> str:
    """A dotted name cut in the middle so the class name stays whole:
    ``werkzeug.datastructures.headers.EnvironHeaders`` -> ``werkzeug…headers.EnvironHeaders``.

    Whole components are kept from both ends; a class name longer than ``width`` keeps its end.
    """
    name = clip(name, len(name) + 1)  # one line, tabs as spaces
    if len(name) <= width:
        return name
    if width <= 1:
        return "…"[:width]
    parts = name.split(".")
    head = parts[0]
    tail = parts[-1]
    for part in reversed(parts[1:-1]):  # more of the end while it fits beside the head
        if len(head) + 1 + len(part) + 1 + len(tail) > width:
            break
        tail = f"{part}.{tail}"
    if len(parts) > 1 and len(head) + 1 + len(tail) <= width:
        return f"{head}…{tail}"
    return "…" + name[-(width - 1) :]
