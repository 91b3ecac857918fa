"""`heaptui open SNAPSHOT [--baseline BASE]` (also `heaptui SNAPSHOT`): the terminal UI.

Missing files are reported before the UI starts; a file that turns out not to be a valid
snapshot (found while loading, in the UI's worker) ends the UI and is reported the same way:
one line ``heaptui: error: ...`` and exit status 2.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from heaptui.core.errors import SnapshotError
from heaptui.fileformat.layout import MAGIC


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui open``."""
    parser = subparsers.add_parser(
        "open",
        help="browse a snapshot in the terminal UI",
        description=(
            "Browse SNAPSHOT in the terminal UI: the type summary, the instances of each type, "
            "who refers to any object and the shortest path from a root that keeps it alive. "
            "With --baseline, also the growth since BASE and the leak suspects. "
            "Press ? in the UI for the keys."
        ),
    )
    parser.add_argument(
        "snapshot", metavar="SNAPSHOT", nargs="?", help="a .heap file written by heaptui"
    )
    parser.add_argument(
        "--baseline", "-b", metavar="BASE", help="an earlier snapshot of the same program"
    )
    parser.add_argument(
        "--timeline",
        metavar="FILE",
        help="show a watch's timeline instead (written by 'heaptui watch --timeline FILE'): "
        "RSS against the Python heap, and the types that grow steadily",
    )
    parser.set_defaults(handler=run)


def check_readable(path: str) -> None:
    """Raise SnapshotError when ``path`` is missing or plainly not a snapshot (checked before
    the UI starts, so the user gets one line instead of a flash of the UI)."""
    if not os.path.exists(path):
        raise SnapshotError(f"{path}: no such file")
    if os.path.isdir(path):
        raise SnapshotError(f"{path} is a directory, not a heaptui snapshot")
    from heaptui.fileformat.read import open_regular_file  # (numpy: not for --help)

    try:
        with open_regular_file(path) as file:
            start = file.read(len(MAGIC))
    except PermissionError as exc:
        raise SnapshotError(f"{path}: permission denied") from exc
    except OSError as exc:
        raise SnapshotError(f"{path}: {exc.strerror or exc}") from exc
    if start != MAGIC:
        raise SnapshotError(
            f"{path} is not a heaptui snapshot (write one with heaptui.dump() or heaptui snapshot)"
        )


def open_ui(snapshot: str, baseline: str | None, *, preselect_suspect: bool = True) -> int:
    """Run the UI on files; a load failure is raised as SnapshotError once the UI has closed."""
    from heaptui.ui.app import HeapApp
    from heaptui.ui.source import FileSource

    app = HeapApp(
        FileSource(snapshot, baseline),
        preselect_suspect=preselect_suspect,
        exit_on_error=True,
    )
    app.run()
    if app.load_error is not None:
        raise SnapshotError(app.load_error)
    return 0


def open_timeline(path: str) -> int:
    """Run the Timeline UI on a timeline file (checked before the UI starts)."""
    from heaptui.model.timeline import load_timeline
    from heaptui.ui.timeline import TimelineApp

    load_timeline(path)  # a bad file: one line, no flash of the UI
    TimelineApp(path).run()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.timeline is not None:
        if args.snapshot is not None:
            raise SnapshotError("give a snapshot or --timeline FILE, not both")
        return open_timeline(args.timeline)
    if args.snapshot is None:
        raise SnapshotError("give a snapshot to open (or --timeline FILE)")
    check_readable(args.snapshot)
    if args.baseline is not None:
        check_readable(args.baseline)
    return open_ui(args.snapshot, args.baseline)
