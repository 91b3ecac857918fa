"""Exports of a snapshot for other tools: Graphviz pictures (:mod:`.dot`), Chrome DevTools'
``.heapsnapshot`` (:mod:`.heapsnapshot`) and CSV tables (:mod:`.tables`). Viewer side (numpy)."""
