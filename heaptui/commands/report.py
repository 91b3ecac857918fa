"""`heaptui report SNAPSHOT [--baseline BASE] [--top N] [--json]`: the answers, without the UI.

Prints the type summary of a snapshot as an aligned table; with a baseline, also the growth by
type and the leak suspects with the path from a root that keeps a sample of each alive.
``--json`` prints the same for scripts and CI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from heaptui.errors import UserError

if TYPE_CHECKING:
    from heaptui.model.diff import GrowthRow
    from heaptui.model.paths import PathStep, RootPath
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import TypeRow
    from heaptui.model.suspects import Suspect

DEFAULT_TOP = 15
# Paths longer than this are shown as their first and last steps (a linked list can be 1M long).
PATH_HEAD = 12
PATH_TAIL = 12
# Files larger than this get a progress line while loading (only when stderr is a terminal).
PROGRESS_BYTES = 32 * 1024 * 1024
# Snapshots with more objects than this get a progress line while the index is built.
PROGRESS_NODES = 500_000


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui report``."""
    parser = subparsers.add_parser(
        "report",
        help="print the type summary, growth and leak suspects of snapshots",
        description=(
            "Print the type summary of SNAPSHOT as a table. With --baseline, also the growth "
            "by type since BASE and the leak suspects: the types that grew (types you wrote "
            "first), each with a new object and the chain of references from a root that "
            "keeps it alive."
        ),
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="a .heap file written by heaptui")
    parser.add_argument(
        "--baseline", "-b", metavar="BASE", help="an earlier snapshot of the same program"
    )
    parser.add_argument(
        "--top",
        metavar="N",
        default=str(DEFAULT_TOP),
        help=f"rows per table and number of suspects (default {DEFAULT_TOP})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(handler=run)


def _parse_top(text: str) -> int:
    try:
        top = int(text)
    except ValueError:
        top = 0
    if top < 1:
        raise UserError(f"--top must be a positive whole number, not {text!r}")
    return top


@contextlib.contextmanager
def _progress(message: str, show: bool) -> Iterator[None]:
    """A transient ``heaptui: message...`` line on a terminal's stderr, erased when done."""
    show = show and sys.stderr.isatty()
    if show:
        sys.stderr.write(f"heaptui: {message}...")
        sys.stderr.flush()
    try:
        yield
    finally:
        if show:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _load(path: str) -> Snapshot:
    """Load a snapshot, with a progress line for big files when someone watches stderr."""
    from heaptui.model.load import load_snapshot

    big = False
    with contextlib.suppress(OSError):  # the loader reports missing or unreadable files
        big = os.path.getsize(path) >= PROGRESS_BYTES
    with _progress(f"loading {path}", big):
        return load_snapshot(path)


def _program(snapshot: Snapshot) -> str | None:
    argv = snapshot.meta.get("argv")
    if isinstance(argv, list) and argv and isinstance(argv[0], str):
        return argv[0]
    return None


def _warn_if_other_program(base: Snapshot, now: Snapshot) -> None:
    before, after = _program(base), _program(now)
    if before is not None and after is not None and before != after:
        print(
            f"heaptui: warning: {base.source} was captured from {before!r} but "
            f"{now.source} from {after!r}; comparing them anyway",
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    """Load the snapshot(s), compute the tables and print them."""
    top = _parse_top(args.top)
    now = _load(args.snapshot)
    base = _load(args.baseline) if args.baseline else None
    report = build_report(now, base, top)
    if base is not None:
        _warn_if_other_program(base, now)
    if args.json:
        json.dump(report_json(report), sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print_report(report, sys.stdout)
    return 0


class Report:
    """Everything a report shows, computed once for either output form."""

    def __init__(
        self,
        now: Snapshot,
        base: Snapshot | None,
        types: list[TypeRow],
        growth: list[GrowthRow],
        suspects: list[Suspect],
        top: int,
    ) -> None:
        self.now = now
        self.base = base
        self.types = types
        self.growth = growth
        self.suspects = suspects
        self.top = top


def build_report(now: Snapshot, base: Snapshot | None, top: int) -> Report:
    """Compute the summary, and with a baseline the growth and suspects (builds the index)."""
    from heaptui.model.diff import growth
    from heaptui.model.summary import type_summary

    types = type_summary(now)
    if base is None:
        return Report(now, None, types, [], [], top)
    from heaptui.model.index import GraphIndex
    from heaptui.model.suspects import leak_suspects

    with _progress("indexing references and finding suspects", now.node_count >= PROGRESS_NODES):
        suspects = leak_suspects(base, now, GraphIndex(now), top=top)
    return Report(now, base, types, growth(base, now), suspects, top)


# --- JSON ----------------------------------------------------------------------------------
def _header_json(snapshot: Snapshot) -> dict[str, Any]:
    meta = snapshot.meta
    header: dict[str, Any] = {
        "file": snapshot.source,
        "objects": snapshot.node_count,
        "edges": snapshot.stored_edge_total,
        "bytes": snapshot.total_bytes,
        "python": meta.get("python"),
        "pid": meta.get("pid"),
        "created": meta.get("created"),
        "argv": meta.get("argv"),
    }
    if "dropped_edges" in meta:
        header["dropped_edges"] = meta["dropped_edges"]
    return header


def _shown_steps(path: RootPath) -> tuple[list[PathStep], list[PathStep], int]:
    """Steps to print (merged): the head, the tail, and how many were left out between them.

    Short paths are all head. A very long path (a linked list) is shown by its two ends only,
    so the middle is never materialised.
    """
    from heaptui.model.paths import display_steps, merge_dict_steps

    if len(path.steps) <= 4 * (PATH_HEAD + PATH_TAIL):
        return display_steps(path), [], 0
    head = path.steps[: 2 * PATH_HEAD]
    tail = path.steps[len(path.steps) - 2 * PATH_TAIL :]
    omitted = len(path.steps) - len(head) - len(tail)
    return merge_dict_steps(head), merge_dict_steps(tail), omitted


def _path_json(snapshot: Snapshot, path: RootPath | None) -> list[dict[str, Any]] | None:
    if path is None:
        return None
    head, tail, _ = _shown_steps(path)
    return [
        {
            "type": step.type,
            "edge": step.edge,
            "repr": step.repr,
            "address": int(snapshot.addr[step.node]),
        }
        for step in head + tail
    ]


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (keys documented in ``heaptui report --help`` and issue 2)."""
    data: dict[str, Any] = {
        "snapshot": _header_json(report.now),
        "types": [
            {"type": row.name, "count": row.count, "size": row.size}
            for row in report.types[: report.top]
        ],
    }
    if report.base is None:
        return data
    data["baseline"] = _header_json(report.base)
    data["growth"] = [
        {"type": row.name, "count_delta": row.count_delta, "size_delta": row.size_delta}
        for row in report.growth[: report.top]
    ]
    data["suspects"] = [
        {
            "type": s.name,
            "count_delta": s.count_delta,
            "size_delta": s.size_delta,
            "user_type": s.user_type,
            "root": s.path.root_label if s.path else None,
            "path": _path_json(report.now, s.path),
            "path_steps_omitted": _shown_steps(s.path)[2] if s.path else 0,
        }
        for s in report.suspects
    ]
    return data


# --- text ----------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Aligned columns; columns in ``right`` are right-aligned (numbers)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        parts = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  " + "  ".join(parts).rstrip()

    return [line(headers)] + [line(row) for row in rows]


def _header_lines(snapshot: Snapshot) -> list[str]:
    from heaptui.ui.format import human_bytes

    meta = snapshot.meta
    program = " ".join(str(a) for a in meta.get("argv") or []) or "?"
    return [
        f"{snapshot.source}: pid {meta.get('pid', '?')}, {program}",
        f"  Python {meta.get('python', '?')}, created {meta.get('created', '?')}",
        f"  {snapshot.node_count:,} objects, {human_bytes(snapshot.total_bytes)}, "
        f"{snapshot.stored_edge_total:,} references",
    ]


def _path_lines(path: RootPath, indent: str) -> list[str]:
    from heaptui.ui.format import clip

    head, tail, omitted = _shown_steps(path)
    lines = [f"{indent}{path.root_label}  ({clip(head[0].repr, 60)})"]
    lines += [f"{indent}-> {step.edge}  ({clip(step.repr, 60)})" for step in head[1:]]
    if omitted:
        lines.append(f"{indent}   ... {omitted:,} more steps ...")
    lines += [f"{indent}-> {step.edge}  ({clip(step.repr, 60)})" for step in tail]
    return lines


def print_report(report: Report, out: TextIO) -> None:
    """Write the report as text: header, type table, and with a baseline growth and suspects."""
    from heaptui.ui.format import human_bytes, signed_bytes, signed_count

    now = report.now
    lines = _header_lines(now)
    total = len(report.types)
    shown = report.types[: report.top]
    lines += ["", f"Types by size (top {len(shown)} of {total})"]
    lines += _table(
        ["type", "count", "size", "share"],
        [[r.name, f"{r.count:,}", human_bytes(r.size), f"{r.share:.1%}"] for r in shown],
        right={1, 2, 3},
    )
    if report.base is not None:
        lines += ["", "Baseline " + _header_lines(report.base)[0], *_header_lines(report.base)[1:]]
        grown = report.growth[: report.top]
        lines += ["", f"Growth by size (top {len(grown)} of {len(report.growth)} changed types)"]
        if grown:
            lines += _table(
                ["type", "count", "change", "size", "change"],
                [
                    [
                        r.name,
                        f"{r.count_now:,}",
                        signed_count(r.count_delta),
                        human_bytes(r.size_now),
                        signed_bytes(r.size_delta),
                    ]
                    for r in grown
                ],
                right={1, 2, 3, 4},
            )
        else:
            lines.append("  nothing changed")
        lines += ["", "Leak suspects (types you wrote first, then by bytes grown)"]
        if not report.suspects:
            lines.append("  none: no type has more objects than in the baseline")
        for rank, s in enumerate(report.suspects, start=1):
            kind = "your type" if s.user_type else "builtin/library type"
            lines.append(
                f"{rank:3}. {s.name}  {signed_count(s.count_delta)} objects, "
                f"{signed_bytes(s.size_delta)}  ({kind})"
            )
            if s.path is not None:
                lines += _path_lines(s.path, "       ")
            elif s.sample is not None:
                lines.append("       no path from a root (unreachable: garbage in a cycle?)")
            else:
                lines.append("       no new object of this type to show")
    out.write("\n".join(lines) + "\n")
