"""heaptui: hunt memory leaks in Python programs from a terminal UI.

The public API is small and imports nothing heavy (no numpy, no textual), because it runs
inside the program being debugged:

- :func:`dump` writes a heap snapshot of this process to a file;
- :func:`snapshot` returns the snapshot as flat columns (:class:`heaptui.core.raw.RawSnapshot`);
- :func:`install` starts the in-process agent that ``heaptui attach`` connects to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core.version import VERSION as __version__

__all__ = ["__version__", "dump", "install", "snapshot"]

if TYPE_CHECKING:
    from .core.raw import RawSnapshot


def snapshot(*, collect: bool = False) -> RawSnapshot:
    """Walk this process's heap and return it as flat columns; see :mod:`heaptui.capture`."""
    from .capture import snapshot as _snapshot

    return _snapshot(collect=collect)


def dump(path: str, *, collect: bool = False) -> str:
    """Capture this process's heap and write it atomically to ``path``; return the path."""
    from .capture import dump as _dump

    return _dump(path, collect=collect)


def install(
    *,
    socket_dir: str | None = None,
    dump_signal: int | None = None,
    dump_dir: str | None = None,
    restart_after_fork: bool = True,
    dump_at_rss: int | str | None = None,
    dump_keep: int | None = None,
) -> Any:
    """Start the in-process agent (a daemon thread on a private Unix socket); idempotent.

    ``dump_signal`` (e.g. ``signal.SIGUSR2``) makes the process write a snapshot file into
    ``dump_dir`` whenever it receives that signal; ``dump_at_rss`` (``"2GiB"``, ``"80%"``)
    writes one there when RSS crosses it (a snapshot before the OOM killer); see
    :func:`heaptui.transport.agent.install`.
    """
    from .transport.agent import install as _install

    return _install(
        socket_dir=socket_dir,
        dump_signal=dump_signal,
        dump_dir=dump_dir,
        restart_after_fork=restart_after_fork,
        dump_at_rss=dump_at_rss,
        dump_keep=dump_keep,
    )
