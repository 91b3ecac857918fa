"""``python -m heaptui``: the same as the ``heaptui`` command."""

import sys

from heaptui.cli import main

sys.exit(main())
