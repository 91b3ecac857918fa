"""`heaptui export SNAPSHOT --format {dot,svg,png,heapsnapshot,csv} [-o OUT]`: for other tools.

- ``dot``/``svg``/``png``: the referrer graph around one object, objgraph style (SVG and PNG
  need Graphviz's ``dot`` program); the object is ``--object ADDR``, by default the top leak
  suspect's sample (with ``--baseline``) or the biggest object of the biggest type;
- ``heapsnapshot``: the whole heap for Chrome DevTools' Memory panel (Load profile);
- ``csv``: the type summary, or with ``--baseline`` the growth by type.

Live objects are not drawn: the agent inside the program stays standard-library only, so
objgraph (a third-party package) is not called there; export a snapshot instead.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from heaptui.core.errors import UserError

if TYPE_CHECKING:
    from heaptui.model.analysis import Analysis
    from heaptui.model.snapshot import Snapshot

FORMATS = ("dot", "svg", "png", "heapsnapshot", "csv")
GRAPH_FORMATS = ("dot", "svg", "png")


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui export``."""
    parser = subparsers.add_parser(
        "export",
        help="write a snapshot as a Graphviz picture, a Chrome .heapsnapshot or CSV",
        description=(
            "Export SNAPSHOT for other tools. dot/svg/png: the objects that refer to one "
            "object, up to a depth, with its path from a root, drawn like objgraph's "
            "show_backrefs (svg and png run Graphviz's 'dot' program). heapsnapshot: the "
            "whole heap in Chrome's format; open it in DevTools > Memory > Load profile. "
            "csv: the type summary, or with --baseline the growth by type."
        ),
    )
    parser.add_argument("snapshot", metavar="SNAPSHOT", help="a .heap file written by heaptui")
    parser.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        help="what to write (default: from the extension of -o)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="file to write (default: SNAPSHOT's name with the format's extension; "
        "'-' writes dot, heapsnapshot and csv to standard output)",
    )
    parser.add_argument(
        "--baseline", "-b", metavar="BASE", help="an earlier snapshot of the same program"
    )
    parser.add_argument(
        "--object",
        metavar="ADDR",
        help="address of the object to draw (hex 0x7f.. or decimal, as shown by heaptui)",
    )
    parser.add_argument(
        "--depth", type=int, default=4, metavar="N", help="levels of referrers to draw (4)"
    )
    parser.add_argument(
        "--max-nodes", type=int, default=60, metavar="N", help="most boxes to draw (60)"
    )
    parser.add_argument(
        "--table",
        choices=("types", "growth"),
        help="csv: which table (default: growth with --baseline, else types)",
    )
    parser.add_argument(
        "--retained",
        action="store_true",
        help="csv types table: add each type's retained bytes (computes the dominator tree)",
    )
    parser.set_defaults(handler=run)


def _format_of(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    if args.output and args.output != "-":
        extension = os.path.splitext(args.output)[1].lstrip(".").lower()
        if extension in FORMATS:
            return extension
    raise UserError(f"say what to write with --format ({', '.join(FORMATS)})")


def _output_path(args: argparse.Namespace, fmt: str) -> str:
    if args.output:
        if args.output == "-" and fmt in ("svg", "png"):
            raise UserError(f"{fmt} needs an output file (-o picture.{fmt})")
        return str(args.output)
    stem = os.path.splitext(os.path.basename(args.snapshot))[0]
    return f"{stem}.{fmt}"


@contextlib.contextmanager
def _text_output(path: str) -> Iterator[TextIO]:
    """Standard output for '-', else the file (errors become one-line UserErrors).

    The file is written like a snapshot (:func:`atomic_file`): mode 0600, since an export
    holds the same strings of the program as the snapshot, and whole or not at all.
    """
    if path == "-":
        yield sys.stdout
        return
    from heaptui.core.atomic import atomic_file

    try:
        with atomic_file(path) as raw:
            handle = io.TextIOWrapper(raw, "utf-8", newline="")
            yield handle
            handle.detach()  # flushes; atomic_file syncs, closes and renames the file
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None


def parse_address(text: str) -> int:
    """``0x7f3a...`` or a decimal id; UserError for anything else."""
    try:
        value = int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        raise UserError(f"--object wants an address like 0x7f3a2c1b4e80, not {text!r}") from None
    if value < 0:
        raise UserError(f"--object wants an address like 0x7f3a2c1b4e80, not {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Load the snapshot(s) and write the chosen export."""
    from heaptui.model.load import load_snapshot

    fmt = _format_of(args)
    output = _output_path(args, fmt)
    if args.depth < 1 or args.max_nodes < 2:
        raise UserError("--depth must be at least 1 and --max-nodes at least 2")
    if fmt in ("svg", "png"):
        from heaptui.export.dot import dot_program, render_graphviz

        if dot_program() is None:
            render_graphviz("", fmt, output)  # raises the "install graphviz" UserError
    now = load_snapshot(args.snapshot)
    base = load_snapshot(args.baseline) if args.baseline else None
    if fmt == "csv":
        _export_csv(now, base, args, output)
    elif fmt == "heapsnapshot":
        _export_heapsnapshot(now, output)
    else:
        _export_graph(now, base, args, fmt, output)
    if output != "-":
        print(f"heaptui: wrote {output}", file=sys.stderr)
    return 0


def _export_csv(now: Snapshot, base: Snapshot | None, args: argparse.Namespace, out: str) -> None:
    from heaptui.export.tables import write_growth_csv, write_types_csv
    from heaptui.model.analysis import Analysis

    analysis = Analysis(now, base)
    table = args.table or ("growth" if base is not None else "types")
    if table == "growth":
        if base is None:
            raise UserError("--table growth needs --baseline BASE")
        with _text_output(out) as handle:
            write_growth_csv(analysis.growth, handle)
        return
    by_type = analysis.retained_by_type if args.retained else None
    with _text_output(out) as handle:
        write_types_csv(analysis.summary, handle, by_type)


def _export_heapsnapshot(now: Snapshot, out: str) -> None:
    from heaptui.export.heapsnapshot import write_heapsnapshot
    from heaptui.model.analysis import Analysis

    index = Analysis(now).index
    with _text_output(out) as handle:
        write_heapsnapshot(index, handle)


def default_object(analysis: Analysis) -> int:
    """The top suspect's sample with a baseline; else the biggest object of the biggest type."""
    for suspect in analysis.suspects(1):
        if suspect.sample is not None:
            return suspect.sample
    from heaptui.model.summary import instances_of

    rows = analysis.summary
    if not rows:
        raise UserError(f"{analysis.now.source} holds no objects")
    return int(instances_of(analysis.now, rows[0].type_index)[0])


def _export_graph(
    now: Snapshot, base: Snapshot | None, args: argparse.Namespace, fmt: str, out: str
) -> None:
    from heaptui.export.dot import referrer_graph, render_graphviz, write_dot
    from heaptui.model.analysis import Analysis

    analysis = Analysis(now, base)
    index = analysis.index
    if args.object is not None:
        address = parse_address(args.object)
        found = now.node_for_addr(address)
        if found is None:
            raise UserError(f"no object at {address:#x} in {now.source}")
        node = found
    else:
        node = default_object(analysis)
    graph = referrer_graph(index, node, depth=args.depth, max_nodes=args.max_nodes)
    if fmt == "dot":
        with _text_output(out) as handle:
            write_dot(index, graph, handle)
        return
    text = io.StringIO()
    write_dot(index, graph, text)
    render_graphviz(text.getvalue(), fmt, out)
