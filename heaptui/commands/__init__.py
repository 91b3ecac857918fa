"""One module per ``heaptui`` subcommand; see :mod:`heaptui.cli`."""
