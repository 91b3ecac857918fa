"""The snapshot file format (see docs/format.md).

:mod:`heaptui.fileformat.write` is standard library only (it runs inside the target);
:mod:`heaptui.fileformat.read` validates untrusted files and returns numpy arrays.
"""
