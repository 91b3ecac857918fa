"""Streamed captures: the snapshot goes to its file or socket chunk by chunk during the walk.

A capture held whole in memory costs the host about 41 bytes per object and 13 per reference
on top of its heap (more than the heap itself, often). Streamed, the C walk hands its node and
reference columns, and the label strings named so far, to a
:class:`~heaptui.fileformat.write.SnapshotStreamWriter` every
:data:`heaptui.capture.accel.CHUNK_NODES` nodes (fewer on a small heap) and reuses the
buffers, so the host only holds the work list (one address per object), one chunk and at most
:data:`heaptui.capture.accel.STRING_INDEX_LIMIT` remembered strings and rendered keys. The
pure-Python walker does not stream (nor does a capture while tracemalloc traces, whose pass
needs every address at the end): the writer then gets the whole snapshot afterwards, as before.

The writer is opened by the walk itself, right after it lists the heap's objects: the writer,
its file and its buffers are then never nodes of the snapshot they write. Standard library only
(plus the snapshot writer): this runs inside the program being measured.
"""

from __future__ import annotations

from typing import Any

from ..core.raw import RawSnapshot
from ..fileformat.write import SnapshotStreamWriter, atomic_snapshot_stream


class StreamTarget:
    """Where a streamed capture writes; subclasses say how the writer is opened."""

    __slots__ = ("writer",)

    def __init__(self) -> None:
        self.writer: SnapshotStreamWriter | None = None

    def open(self) -> SnapshotStreamWriter:
        """Open the writer (once) and return it."""
        if self.writer is None:
            self.writer = self._open_writer()
        return self.writer

    def _open_writer(self) -> SnapshotStreamWriter:
        raise NotImplementedError


class FileTarget(StreamTarget):
    """A snapshot file written atomically: a private temporary file renamed at :meth:`close`."""

    __slots__ = ("_context", "path")

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._context: Any = None

    def _open_writer(self) -> SnapshotStreamWriter:
        self._context = atomic_snapshot_stream(self.path)
        writer: SnapshotStreamWriter = self._context.__enter__()
        return writer

    def close(self, error: BaseException | None = None) -> None:
        """Rename the finished file into place, or (``error`` given) remove the temporary file."""
        context, self._context = self._context, None
        if context is None:
            return
        if error is None:
            context.__exit__(None, None, None)
        else:
            context.__exit__(type(error), error, error.__traceback__)


class FileObjectTarget(StreamTarget):
    """Any forward-only binary file object, e.g. the agent's socket writer."""

    __slots__ = ("fileobj",)

    def __init__(self, fileobj: Any) -> None:
        super().__init__()
        self.fileobj = fileobj

    def _open_writer(self) -> SnapshotStreamWriter:
        return SnapshotStreamWriter(self.fileobj)


def stream_capture(
    target: StreamTarget, run_walker: Any, root_frame: Any, collect: bool, exclude_ids: Any
) -> RawSnapshot:
    """Capture into ``target`` and finish its file; return what was not streamed (and meta).

    ``run_walker(root_frame, collect, exclude_ids, open_sink)`` is the capture package's
    walker choice. The target and its ``open`` method exist before the walk lists the heap,
    so they are left out of the snapshot, as is the set of left-out ids itself.
    """
    opener = target.open
    exclude = set(exclude_ids)
    exclude.update((id(target), id(opener)))
    exclude.add(id(exclude))
    raw: RawSnapshot = run_walker(root_frame, collect, exclude, opener)
    del opener, exclude
    target.open().finish(raw)  # a walk that did not stream never opened it
    return raw


def stream_to_file(
    path: str, run_walker: Any, root_frame: Any, collect: bool, exclude_ids: Any
) -> RawSnapshot:
    """Capture into the snapshot file ``path`` atomically (see :func:`stream_capture`)."""
    target = FileTarget(path)
    try:
        raw = stream_capture(target, run_walker, root_frame, collect, exclude_ids)
    except BaseException as exc:
        target.close(exc)
        raise
    target.close()
    return raw


__all__ = ["FileObjectTarget", "FileTarget", "StreamTarget", "stream_capture", "stream_to_file"]
