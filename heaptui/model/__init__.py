"""Pure data over snapshots: loading, graph index, summaries, growth, paths, suspects.

No textual, no sockets, no live objects. numpy arrays hold the graph.
"""
