"""Why attaching to a process failed, each with what the user can do about it.

All are :class:`heaptui.core.errors.UserError`: the CLI prints the message on one line.
"""

from __future__ import annotations

from heaptui.core.errors import UserError


class AttachError(UserError):
    """Attaching to a running process (injecting the agent) failed."""


class GdbMissing(AttachError):
    """gdb, which injects the agent, is not installed."""


class NoSuchProcess(AttachError):
    """The pid does not name a running process."""


class PtraceDenied(AttachError):
    """The system does not let us trace that process (another user's, or ptrace restricted)."""


class NotPython(AttachError):
    """The process is not a CPython interpreter."""


class UnsupportedPython(AttachError):
    """The target's Python is older than heaptui supports."""


class RemoteDebugDisabled(AttachError):
    """Python 3.14+: the target disabled remote debugging (PEP 768)."""


class TargetBusy(AttachError):
    """The target did not run the injected code in time (a thread holds the GIL in C code)."""


class AgentStartFailed(AttachError):
    """The injected code ran but could not start the agent; the message has the reason."""
