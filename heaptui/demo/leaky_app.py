"""The program ``heaptui demo`` runs: serve requests, dump a baseline, leak, dump again.

Run as a script (``python leaky_app.py BASE AFTER [REQUESTS]``) so that its own directory is
first on ``sys.path`` and ``shop`` is imported as a top-level module, like a user's code.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    # ``shop`` sits next to this script and is imported as a user's own top-level module.
    import shop  # type: ignore[import-not-found]

    import heaptui

    base, after = argv[0], argv[1]
    requests = int(argv[2]) if len(argv) > 2 else 2000
    shop.serve(0, 200, distinct_users=False)  # warm up: a few regular users
    heaptui.dump(base, collect=True)
    shop.serve(200, requests, distinct_users=True)  # a crowd of new users: the leak
    heaptui.dump(after, collect=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
