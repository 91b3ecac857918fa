"""Errors a user can cause (bad file, bad argument, dead process) and how the CLI shows them.

Anything raised as :class:`UserError` ends in one line ``heaptui: error: ...`` and exit status 2;
anything else is a bug in heaptui and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; its message is shown as is, without a traceback."""

    exit_status = 2


class SnapshotError(UserError):
    """A file is missing, unreadable, or not a valid heaptui snapshot."""
