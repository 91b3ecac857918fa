"""One capture at a time: concurrent captures wait, a nested one fails fast.

Standard library only. Two walks at once would each list the other's working objects (four
threads dumping a 31k-object heap gave 306k nodes and minutes instead of half a second), and
a walk started inside another on the same thread (from a signal handler or a ``__del__`` that
runs mid-walk) would share the outer walk's state. :func:`enter` serialises captures
across threads and raises :class:`CaptureInProgressError` for a nested one.

The threads inside a capture are remembered as raw integers in an ``array``: no Python
object is created per capture, so two snapshots in a row still compare equal.
"""

from __future__ import annotations

import _thread
import os
from array import array

from ..core.errors import UserError

_LOCK = _thread.allocate_lock()
_ACTIVE = array("Q")  # idents of the threads that entered exclusive() and did not leave it


_PID = array("q", [os.getpid()])  # the process the lock belongs to


def _renew_after_fork() -> None:
    """A child forked while another thread captured inherits the lock held: free it there.

    Checked on entry rather than with ``os.register_at_fork``: a registered callback could
    never be removed, and an injected agent must leave no object behind in its target.
    """
    global _LOCK
    pid = os.getpid()
    if _PID[0] != pid:
        _LOCK = _thread.allocate_lock()
        del _ACTIVE[:]
        _PID[0] = pid


class CaptureInProgressError(UserError):
    """A capture was started while this thread was already taking one."""


def enter() -> None:
    """Take the capture lock (waiting for another thread's capture to end); raise
    :class:`CaptureInProgressError` if this thread is already capturing. Pair with
    :func:`leave` in ``finally`` (no context manager: its generator would be a node of the
    snapshot)."""
    _renew_after_fork()
    me = _thread.get_ident()
    if me in _ACTIVE:
        raise CaptureInProgressError(
            "a heap capture is already running in this thread (a dump from a signal handler "
            "or __del__ during a dump); captures cannot be nested"
        )
    _ACTIVE.append(me)  # before acquiring: a nested capture from here on sees it
    try:
        _LOCK.acquire()
    except BaseException:
        _ACTIVE.remove(me)
        raise


def leave() -> None:
    """Release what :func:`enter` took."""
    _LOCK.release()
    _ACTIVE.remove(_thread.get_ident())


__all__ = ["CaptureInProgressError", "enter", "leave"]
