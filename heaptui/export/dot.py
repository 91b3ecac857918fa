"""The referrer graph around one object as Graphviz ``.dot``, drawn the way objgraph draws it.

objgraph's ``show_backrefs`` picture, from a snapshot instead of live objects: boxes with the
type and a short repr, arrows from referrer to referent labelled with the reference (``.cache``,
``['user:42']``), the chosen object highlighted, roots marked. :func:`referrer_graph` picks the
nodes: the chosen object's referrers breadth first up to ``depth`` levels and ``max_nodes``
boxes (a node with more referrers than ``fan_out`` shows the rest as one "+N more" box), plus
its shortest path from a root so the picture always says what keeps it alive.
:func:`render_graphviz` turns the text into SVG or PNG with the ``dot`` program.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from heaptui.core.errors import UserError
from heaptui.core.format import object_repr
from heaptui.model.index import GraphIndex
from heaptui.model.paths import short_type, shortest_root_path

DEFAULT_DEPTH = 4
DEFAULT_MAX_NODES = 60
DEFAULT_FAN_OUT = 8
# Colours as in objgraph: the chosen object stands out, roots are blue, the rest white.
TARGET_COLOUR = "#ff9999"
ROOT_COLOUR = "#99ccff"
MORE_COLOUR = "#eeeeee"
REPR_WIDTH = 40


@dataclass
class ReferrerGraph:
    """Nodes and labelled edges (referrer -> referent) around ``target``."""

    target: int
    nodes: list[int] = field(default_factory=list)
    edges: list[tuple[int, int, int]] = field(default_factory=list)  # (source, target, edge id)
    more: dict[int, int] = field(default_factory=dict)  # node -> referrers left out


def referrer_graph(
    index: GraphIndex,
    target: int,
    *,
    depth: int = DEFAULT_DEPTH,
    max_nodes: int = DEFAULT_MAX_NODES,
    fan_out: int = DEFAULT_FAN_OUT,
) -> ReferrerGraph:
    """The referrers of ``target`` up to ``depth`` levels, at most ``max_nodes`` boxes, plus
    the shortest root path of ``target`` (whatever its length, up to ``max_nodes``)."""
    graph = ReferrerGraph(target, [target])
    seen = {target}
    edges: set[tuple[int, int, int]] = set()
    path = shortest_root_path(index, target)
    if path is not None:
        nodes = path.steps.nodes.tolist()[-max_nodes:]
        edge_ids = path.steps.edges.tolist()[-max_nodes:]
        for previous, node, edge in zip(nodes, nodes[1:], edge_ids[1:], strict=False):
            edges.add((previous, node, edge))
        for node in nodes:
            if node not in seen:
                seen.add(node)
                graph.nodes.append(node)
    frontier = [target]
    for _ in range(depth):
        following = []
        for node in frontier:
            referrers, edge_ids = index.referrers(node)
            shown = 0
            for referrer, edge in zip(referrers.tolist(), edge_ids.tolist(), strict=True):
                if shown >= fan_out or (referrer not in seen and len(seen) >= max_nodes):
                    graph.more[node] = graph.more.get(node, 0) + 1
                    continue
                shown += 1
                edges.add((referrer, node, edge))
                if referrer not in seen:
                    seen.add(referrer)
                    graph.nodes.append(referrer)
                    following.append(referrer)
        frontier = following
    graph.edges = sorted(edges)
    return graph


def _quote(text: str) -> str:
    """A dot string literal (backslashes, quotes and line breaks escaped)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n").replace("\r", "\\r") + '"'


def _clip(text: str, width: int = REPR_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def write_dot(index: GraphIndex, graph: ReferrerGraph, out: TextIO) -> None:
    """Write ``graph`` as a Graphviz digraph to ``out``."""
    snapshot = index.snapshot
    out.write("digraph ObjectGraph {\n")
    out.write(
        '  node[shape=box, style=filled, fillcolor=white, fontname="Helvetica", fontsize=10];\n'
    )
    out.write('  edge[fontname="Helvetica", fontsize=9];\n')
    for node in graph.nodes:
        text = object_repr(snapshot, node) or f"{int(snapshot.addr[node]):#x}"
        label = f"{short_type(snapshot.type_name(node))}\n{_clip(text)}"
        attributes = [f"label={_quote(label)}", f"tooltip={_quote(snapshot.type_name(node))}"]
        if node == graph.target:
            attributes.append(f'fillcolor="{TARGET_COLOUR}"')
        elif index.root_kind_of(node) is not None:
            root = _clip(index.root_label_of(node), 60)
            attributes[0] = f"label={_quote(label + chr(10) + root)}"
            attributes.append(f'fillcolor="{ROOT_COLOUR}"')
        out.write(f"  o{node}[{', '.join(attributes)}];\n")
    for node, count in graph.more.items():
        out.write(
            f'  more{node}[label="+{count:,} more referrers", shape=note, '
            f'fillcolor="{MORE_COLOUR}"];\n  more{node} -> o{node}[style=dashed];\n'
        )
    for source, target, edge in graph.edges:
        label = _clip(snapshot.edge_label(edge), 30)
        out.write(f"  o{source} -> o{target}[label={_quote(label)}];\n")
    out.write("}\n")


def dot_program() -> str | None:
    """Path of Graphviz's ``dot`` program, or None when it is not installed."""
    return shutil.which("dot")


def render_graphviz(dot_text: str, fmt: str, output: str) -> None:
    """Run ``dot -T<fmt>`` on ``dot_text`` into ``output``; one-line UserError on failure."""
    program = dot_program()
    if program is None:
        raise UserError(
            f"drawing {fmt.upper()} needs Graphviz's 'dot' program, which is not installed "
            "(apt-get install graphviz, brew install graphviz), or use --format dot"
        )
    from heaptui.core.atomic import atomic_file

    try:  # written like a snapshot (mode 0600, whole or not at all): it holds its strings
        with atomic_file(output) as out:
            result = subprocess.run(
                [program, f"-T{fmt}"],
                input=dot_text.encode("utf-8"),
                stdout=out,
                stderr=subprocess.PIPE,
                timeout=300,
                check=False,
            )
            if result.returncode != 0:
                reason = _first_line(result.stderr.decode("utf-8", "replace").splitlines())
                raise UserError(f"Graphviz's dot failed: {reason}")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None


def _first_line(lines: Iterable[str]) -> str:
    return next((line.strip() for line in lines if line.strip()), "no message")
