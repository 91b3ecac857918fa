"""The Textual terminal UI over the model; it reads snapshots and never touches live objects."""
