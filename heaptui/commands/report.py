"""`heaptui report SNAPSHOT [--baseline BASE] [--top N] [--[no-]retained] [--json]`: the answers.

Prints the type summary of a snapshot as an aligned table; with a baseline, also the growth by
type and the leak suspects with the path from a root that keeps a sample of each alive. With
retained sizes (the dominator tree; on by default with a baseline), the type table gains a
retained column and each suspect names its accumulation point: the object that retains most
of its new objects. When the program ran under tracemalloc, each suspect also lists where its
new objects were allocated. ``--json`` prints the same for scripts and CI.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from heaptui.core.errors import UserError
from heaptui.core.printable import printable

if TYPE_CHECKING:
    import numpy as np

    from heaptui.model.allocsites import AllocStatus, SiteGrowth
    from heaptui.model.diff import GrowthRow
    from heaptui.model.paths import PathStep, RootPath
    from heaptui.model.retained import Accumulation
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
# Allocation sites listed per suspect.
SITES_PER_SUSPECT = 3


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui report``."""
    parser = subparsers.add_parser(
        "report",
        help="print the type summary, growth and leak suspects of snapshots",
        description=(
            "Print the type summary of SNAPSHOT as a table. With --baseline, also the growth "
            "by type since BASE and the leak suspects: the types that grew (types you wrote "
            "first), each with a new object and the chain of references from a root that "
            "keeps it alive. Retained sizes (bytes an object keeps alive: what would be "
            "freed without it) come from the dominator tree of SNAPSHOT; they are computed "
            "by default when there is a baseline (each suspect then names the object that "
            "retains most of its new objects, and the types that pile up there together are "
            "one suspect, named by its outermost new objects or a type you wrote among them, "
            "with the answer in its first line) and with --retained otherwise. On a heap of 2M "
            "objects they added about 2 s and 150 MB with a baseline (the reference index is "
            "built anyway) and 3 s and 400 MB without; --no-retained skips them. "
            "If the program ran under tracemalloc (PYTHONTRACEMALLOC=25, or 'heaptui run "
            "--trace'), each suspect also lists where its new objects were allocated."
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
    parser.add_argument(
        "--retained",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="compute retained sizes and accumulation points (default: only with --baseline)",
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


def _warn_if_other_program(base: Snapshot, now: Snapshot) -> None:
    from heaptui.model.diff import program_of

    before, after = program_of(base), program_of(now)
    if before is not None and after is not None and before != after:
        print(
            printable(
                f"heaptui: warning: {base.source} was captured from {before!r} but "
                f"{now.source} from {after!r}; comparing them anyway"
            ),
            file=sys.stderr,
        )


def run(args: argparse.Namespace) -> int:
    """Load the snapshot(s), compute the tables and print them."""
    top = _parse_top(args.top)
    now = _load(args.snapshot)
    base = _load(args.baseline) if args.baseline else None
    retained = args.retained if args.retained is not None else base is not None
    report = build_report(now, base, top, retained=retained)
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
        *,
        retained_by_type: np.ndarray | None = None,
        sites: list[SiteGrowth | None] | None = None,
        alloc: AllocStatus | None = None,
    ) -> None:
        self.now = now
        self.base = base
        self.types = types
        self.growth = growth
        self.suspects = suspects
        self.top = top
        self.retained_by_type = retained_by_type  # uint64 T, None if not computed
        self.sites = sites or [None] * len(suspects)  # per suspect, None if not recorded
        self.alloc = alloc  # allocation-site status of ``now`` (with a baseline)

    def type_retained(self, row: TypeRow) -> int | None:
        """Bytes retained by all instances of ``row``'s type, or None if not computed."""
        if self.retained_by_type is None:
            return None
        return int(self.retained_by_type[row.type_index])


def build_report(
    now: Snapshot, base: Snapshot | None, top: int, *, retained: bool = False
) -> Report:
    """Compute the summary, and with a baseline the growth and suspects (builds the index).

    ``retained`` adds retained sizes (the dominator tree): a column in the type table and,
    with a baseline, each suspect's retained bytes and accumulation point.
    """
    from heaptui.model.analysis import Analysis

    analysis = Analysis(now, base)
    types = analysis.summary
    if base is None and not retained:
        return Report(now, None, types, [], [], top)
    big = now.node_count >= PROGRESS_NODES
    with _progress("indexing references", big):
        analysis.index  # noqa: B018 -- computed (and cached) under its progress line
    by_type = None
    if retained:
        with _progress("computing retained sizes", big):
            by_type = analysis.retained_by_type
    if base is None:
        return Report(now, None, types, [], [], top, retained_by_type=by_type)
    with _progress("finding suspects", big):
        suspects = analysis.suspects(top, accumulation=retained)
        sites = analysis.sites(top, accumulation=retained)
    return Report(
        now,
        base,
        types,
        analysis.growth,
        suspects,
        top,
        retained_by_type=by_type,
        sites=sites,
        alloc=analysis.alloc,
    )


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


def _accumulation_json(snapshot: Snapshot, acc: Accumulation | None) -> dict[str, Any] | None:
    if acc is None:
        return None
    return {
        "type": acc.type,
        "repr": acc.repr,
        "address": int(snapshot.addr[acc.node]),
        "retained": acc.retained,
        "share": round(acc.share, 4),
        "held": acc.held,
        "root": acc.path.root_label if acc.path else None,
        "path": _path_json(snapshot, acc.path),
    }


def _sites_json(sites: SiteGrowth | None) -> dict[str, Any] | None:
    if sites is None:
        return None
    return {
        "untraced_count": sites.untraced_count,
        "untraced_size": sites.untraced_size,
        "sites": [
            {
                "file": g.frames[0].filename,
                "line": g.frames[0].lineno,
                "count": g.objects,
                "size": g.size,
                "traceback": [{"file": f.filename, "line": f.lineno} for f in g.frames],
            }
            for g in sites.groups[:SITES_PER_SUSPECT]
        ],
    }


def report_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data (keys documented in ``heaptui report --help`` and issue 2).

    With retained sizes each suspect is a group of types that accumulate at one point
    (issue 14): ``type`` names it (its outermost new type ``outermost_type``, or a type you
    wrote inside those), ``members`` are the grown types in the group, ``new_count`` the new
    objects of ``type`` and ``text`` the one-sentence answer.

    ``retained`` keys are null when retained sizes were not computed; ``alloc_sites`` is null
    when the snapshot has no allocation sites (``alloc.explanation`` says why).
    """
    from heaptui.model.suspects import answer_text

    data: dict[str, Any] = {
        "snapshot": _header_json(report.now),
        "retained_computed": report.retained_by_type is not None,
        "types": [
            {
                "type": row.name,
                "count": row.count,
                "size": row.size,
                "retained": report.type_retained(row),
            }
            for row in report.types[: report.top]
        ],
    }
    if report.base is None:
        return data
    if report.alloc is not None:
        data["alloc"] = {
            "recorded": report.alloc.recorded,
            "tracemalloc": report.alloc.tracing,
            "frames": report.alloc.frames,
            "traced": report.alloc.traced,
            "untraced": report.alloc.untraced,
            "explanation": report.alloc.explanation,
        }
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
            "retained": s.retained,
            "accumulation": _accumulation_json(report.now, s.accumulation),
            "alloc_sites": _sites_json(sites),
            "text": answer_text(s),
            "new_count": s.new_count,
            "outermost_type": s.outermost,
            "members": list(s.members) if s.members else [s.name],
        }
        for s, sites in zip(report.suspects, report.sites, strict=True)
    ]
    return data


# --- text ----------------------------------------------------------------------------------
def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    """Aligned columns; columns in ``right`` are right-aligned (numbers)."""
    rows = [[printable(cell) for cell in row] for row in rows]  # aligned as they will show
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
    from heaptui.core.format import human_bytes

    meta = snapshot.meta
    program = " ".join(str(a) for a in meta.get("argv") or []) or "?"
    return [
        f"{snapshot.source}: pid {meta.get('pid', '?')}, {program}",
        f"  Python {meta.get('python', '?')}, created {meta.get('created', '?')}",
        f"  {snapshot.node_count:,} objects, {human_bytes(snapshot.total_bytes)}, "
        f"{snapshot.stored_edge_total:,} references",
    ]


def _path_lines(path: RootPath, indent: str) -> list[str]:
    from heaptui.core.format import clip

    head, tail, omitted = _shown_steps(path)
    lines = [f"{indent}{path.root_label}  ({clip(head[0].repr, 60)})"]
    lines += [f"{indent}-> {step.edge}  ({clip(step.repr, 60)})" for step in head[1:]]
    if omitted:
        lines.append(f"{indent}   ... {omitted:,} more steps ...")
    lines += [f"{indent}-> {step.edge}  ({clip(step.repr, 60)})" for step in tail]
    return lines


def print_report(report: Report, out: TextIO) -> None:
    """Write the report as text: header, type table, and with a baseline growth and suspects."""
    from heaptui.core.format import human_bytes, signed_bytes, signed_count

    now = report.now
    lines = _header_lines(now)
    total = len(report.types)
    shown = report.types[: report.top]
    lines += ["", f"Types by size (top {len(shown)} of {total})"]
    if report.retained_by_type is None:
        lines += _table(
            ["type", "count", "size", "share"],
            [[r.name, f"{r.count:,}", human_bytes(r.size), f"{r.share:.1%}"] for r in shown],
            right={1, 2, 3},
        )
    else:
        lines += _table(
            ["type", "count", "size", "share", "retained"],
            [
                [
                    r.name,
                    f"{r.count:,}",
                    human_bytes(r.size),
                    f"{r.share:.1%}",
                    human_bytes(report.type_retained(r) or 0),
                ]
                for r in shown
            ],
            right={1, 2, 3, 4},
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
        lines += ["", _SUSPECTS_TITLE[report.retained_by_type is not None]]
        if not report.suspects:
            lines.append("  none: no type has more objects than in the baseline")
        for rank, (s, sites) in enumerate(zip(report.suspects, report.sites, strict=True), 1):
            lines += _suspect_lines(rank, s, sites)
        if report.suspects and report.alloc is not None:
            lines += ["", "Allocation sites: " + report.alloc.explanation]
    # Every line holds texts of the snapshot (type names, reprs, argv): made printable here,
    # once, so none reaches the terminal raw (JSON output keeps them exact).
    out.write("\n".join(printable(line) for line in lines) + "\n")


_SUSPECTS_TITLE = {
    False: "Leak suspects (types you wrote first, then by bytes grown)",
    True: "Leak suspects (one per place new objects pile up; yours first, then by bytes retained)",
}


def _suspect_lines(rank: int, s: Suspect, sites: SiteGrowth | None) -> list[str]:
    """A suspect: the answer in one line, its growth, where its new objects accumulate, a
    path, allocation sites."""
    from heaptui.core.format import human_bytes, signed_bytes, signed_count
    from heaptui.model.suspects import accumulation_parts, answer_text

    indent = "       "
    kind = "your type" if s.user_type else "builtin/library type"
    retained = f", retaining {human_bytes(s.retained)}" if s.retained is not None else ""
    lines = [
        f"{rank:3}. {answer_text(s)}",
        f"{indent}{s.name}  {signed_count(s.count_delta)} objects, "
        f"{signed_bytes(s.size_delta)}{retained}  ({kind})",
    ]
    if s.outermost is not None and s.outermost != s.name:
        lines.append(f"{indent}kept inside new {s.outermost} objects")
    if len(s.members) > 1:
        lines.append(f"{indent}grown with it, inside it or beside it: {', '.join(s.members[1:])}")
    if s.accumulation is not None:
        acc = s.accumulation
        where = path_text(acc.path) if acc.path is not None else None
        lines.append(indent + "".join(text for _, text in accumulation_parts(s.name, acc, where)))
    if s.path is not None:
        lines.append(indent + "a new one is reached by:")
        lines += _path_lines(s.path, indent + "  ")
    elif s.sample is not None:
        lines.append(indent + "no path from a root (unreachable: garbage in a cycle?)")
    else:
        lines.append(indent + "no new object of this type to show")
    if sites is not None:
        lines += _site_lines(sites, indent)
    return lines


def path_text(path: RootPath) -> str:
    """``sys.modules['app'] -> .CACHE``: the root and the references to the path's end."""
    head, tail, omitted = _shown_steps(path)
    parts = [path.root_label, *(step.edge or "" for step in head[1:])]
    if omitted:
        parts.append(f"... {omitted:,} more ...")
    parts += [step.edge or "" for step in tail]
    return " -> ".join(parts)


def _site_lines(sites: SiteGrowth, indent: str) -> list[str]:
    from heaptui.core.format import human_bytes

    lines = []
    for group in sites.groups[:SITES_PER_SUSPECT]:
        lines.append(
            f"{indent}allocated at {group.frames[0]}  "
            f"({group.objects:,} new objects, {human_bytes(group.size)})"
        )
        lines += [f"{indent}  called from {frame}" for frame in group.frames[1:3]]
    if sites.untraced_count:
        lines.append(f"{indent}{sites.untraced_count:,} new objects have no allocation traceback")
    return lines
