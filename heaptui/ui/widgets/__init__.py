"""Widgets of the heaptui app, one per pane (plus the header line)."""
