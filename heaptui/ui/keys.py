"""Every key of the app with what it does: the help screen and the command palette read this.

The bindings themselves live on the widgets (Textual shows them in the Footer); this table
says the same thing in words, grouped by pane, and names the app actions the palette runs.
"""

from __future__ import annotations

from typing import NamedTuple


class KeyHelp(NamedTuple):
    keys: str
    description: str


class PaletteCommand(NamedTuple):
    title: str
    action: str  # an action of HeapApp, run with run_action
    help: str


KEY_SECTIONS: dict[str, list[KeyHelp]] = {
    "Everywhere": [
        KeyHelp("1 2 3 4 5", "show Types, Instances, Object, Growth, Dominators"),
        KeyHelp("tab / shift+tab", "next / previous pane"),
        KeyHelp(". ,", "next / previous leak suspect (with a baseline the UI opens on the first)"),
        KeyHelp("w", "why alive: shortest path from a root to the selected object"),
        KeyHelp("/", "find a type by a part of its name (in Types; escape clears)"),
        KeyHelp("e", "export the referrers of the object to a Graphviz .dot file (+ .svg)"),
        KeyHelp("[  or  backspace", "back to the previously selected object"),
        KeyHelp("]", "forward again"),
        KeyHelp("?", "this help"),
        KeyHelp("ctrl+p", "command palette: every action by name"),
        KeyHelp("q", "quit"),
    ],
    "Types (1)": [
        KeyHelp("↑ ↓  j k  g G", "move"),
        KeyHelp("enter", "list the instances of the type"),
        KeyHelp("b  c  n  r", "sort by bytes, count, name, retained bytes (again: reverse)"),
    ],
    "Instances (2)": [
        KeyHelp("↑ ↓  j k  pgup pgdn  g G", "move (largest first; + marks new objects)"),
        KeyHelp("enter", "select the object: show its referrers"),
        KeyHelp("n", "only the new objects / all (with a baseline; new only at first)"),
        KeyHelp("", "Growth's count is net: new objects minus the freed ones"),
        KeyHelp("", "size: its own bytes; retained: what freeing it would free"),
    ],
    "Object (3)": [
        KeyHelp("↑ ↓  j k", "move"),
        KeyHelp("→ l  space", "expand a node (one level)"),
        KeyHelp("← h", "collapse, or go to the parent"),
        KeyHelp("enter", "select that object (or show more children on a '… more' node)"),
        KeyHelp("r", "toggle referrers (who holds it) / referents (what it holds)"),
        KeyHelp("J", "in a big container: jump to an index, a key or the end"),
        KeyHelp("a", "allocation site: every frame / short (needs tracemalloc)"),
    ],
    "Growth (4)": [
        KeyHelp("↑ ↓  j k", "move (! marks leak suspects)"),
        KeyHelp("enter", "list the instances of the type"),
        KeyHelp("s", "group the new objects of the type by allocation site"),
        KeyHelp("escape", "close the allocation sites (enter on a site: an example)"),
    ],
    "Live (heaptui attach)": [
        KeyHelp("R", "take a new snapshot: growth since the baseline, top suspect shown"),
        KeyHelp("B", "make the current snapshot the baseline"),
        KeyHelp("ctrl+s", "save the current snapshot to a file"),
        KeyHelp("T", "timeline: census every 10 s, the types that grow steadily"),
    ],
    "Dominators (5)": [
        KeyHelp("↑ ↓  j k", "move (biggest retainers first: what freeing it would free)"),
        KeyHelp("→ l  space", "expand: the objects only this one keeps alive"),
        KeyHelp("← h", "collapse, or go to the parent"),
        KeyHelp("enter", "select that object (w: its path from a root)"),
    ],
}

PALETTE_COMMANDS: list[PaletteCommand] = [
    PaletteCommand("Show types", "show_pane('types')", "the type summary (key 1)"),
    PaletteCommand("Show instances", "show_pane('instances')", "objects of the type (key 2)"),
    PaletteCommand("Show object", "show_pane('object')", "referrers/referents tree (key 3)"),
    PaletteCommand("Show growth", "show_pane('growth')", "changes since the baseline (key 4)"),
    PaletteCommand(
        "Show dominators", "show_pane('dominators')", "what keeps the most memory alive (key 5)"
    ),
    PaletteCommand("Why alive", "why_alive", "path from a root to the selected object (w)"),
    PaletteCommand("Toggle referrers/referents", "toggle_mode", "in the object pane (r)"),
    PaletteCommand(
        "Export referrer graph", "export_graph", "around the object, to .dot and .svg (e)"
    ),
    PaletteCommand("Group growth by allocation site", "group_sites", "new objects of the type (s)"),
    PaletteCommand("Back", "go_back", "previously selected object ([)"),
    PaletteCommand("Forward", "go_forward", "next selected object (])"),
    PaletteCommand("Find type", "filter_types", "filter types by a part of the name (/)"),
    PaletteCommand("Sort types by bytes", "sort_types('size')", "(b)"),
    PaletteCommand("Sort types by count", "sort_types('count')", "(c)"),
    PaletteCommand("Sort types by name", "sort_types('name')", "(n)"),
    PaletteCommand("Sort types by retained bytes", "sort_types('retained')", "(r)"),
    PaletteCommand(
        "Go to top suspect", "top_suspect", "select the most likely leak (needs a baseline)"
    ),
    PaletteCommand("Next suspect", "next_suspect(1)", "the next most likely leak (.)"),
    PaletteCommand("Previous suspect", "next_suspect(-1)", "the previous suspect (,)"),
    PaletteCommand("Instances: new only / all", "toggle_new_only", "list only the new objects (n)"),
    PaletteCommand("Help", "help", "list every key (?)"),
]
