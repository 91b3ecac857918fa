"""`heaptui ps`: the processes of this user running the heaptui agent.

Each agent is asked for its info over its socket; sockets of processes that are gone are
removed on the way.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from heaptui.core.format import human_bytes
from heaptui.core.printable import printable
from heaptui.transport.discovery import AgentEntry, describe_command, list_agents


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui ps``."""
    parser = subparsers.add_parser(
        "ps",
        help="list processes running the heaptui agent (pid, command, Python, RSS, uptime)",
        description="List this user's processes that run the heaptui agent.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    agents = list_agents()
    if args.json:
        rows = [{"pid": a.pid, "problem": a.problem, **a.info} for a in agents]
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    if not agents:
        print("no process is running the heaptui agent (start one with 'heaptui run app.py')")
        return 0
    print(format_table(agents))
    return 0


def format_table(agents: list[AgentEntry]) -> str:
    """An aligned table, one agent per line."""
    header = ("PID", "PYTHON", "RSS", "UPTIME", "COMMAND")
    rows = [header]
    for a in agents:
        if a.problem is not None:
            rows.append((str(a.pid), "?", "?", "?", f"(not answering: {printable(a.problem)})"))
            continue
        rows.append(
            (
                str(a.pid),
                printable(a.info.get("python", "?")),
                _rss(a.info.get("rss")),
                format_duration(_uptime(a.info)),
                describe_command(a.info),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = []
    for r in rows:
        cells = [r[0].rjust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2])]
        cells.append(r[3].rjust(widths[3]))
        lines.append("  ".join([*cells, r[4]]))
    return "\n".join(lines)


def _uptime(info: dict[str, Any]) -> float | None:
    started, now = info.get("process_started"), info.get("time")
    if isinstance(started, (int, float)) and isinstance(now, (int, float)):
        return max(0.0, now - started)
    return None


def _rss(n: Any) -> str:
    return human_bytes(int(n)) if isinstance(n, int) else "?"


def format_duration(seconds: float | None) -> str:
    """``42s``, ``5m03s``, ``2h07m``, ``3d04h``."""
    if seconds is None:
        return "?"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"
