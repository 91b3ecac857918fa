"""Panes of the app that own their state: the app hands them data, they reset and lay out
themselves (with CSS classes) and run their own workers."""
