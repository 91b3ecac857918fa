"""Constants of the snapshot file layout, shared by the writer and the reader.

Standard library only (the writer runs inside the target program). docs/format.md describes
the layout in full; this module is its single source of numbers and column names.
"""

from __future__ import annotations

MAGIC = b"HEAPTUI\0"
END_MARKER = b"HEAPEND\0"
# The version the writer writes, and every version the reader reads.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

# Both versions: magic (8) + format version (uint32), then 12 bytes that version 1 fills with
# the header's crc32 (uint32) and length (uint64) and version 2 leaves zero.
PREAMBLE_SIZE = 24
PREAMBLE_FORMAT = "<IIQ"  # after the magic
ALIGN = 8

# Version 2 ends with: directory (JSON), zero padding to ALIGN, footer, END_MARKER.
# Footer: crc32 of the directory bytes (uint32), reserved zero (uint32), directory length
# (uint64).
FOOTER_FORMAT = "<IIQ"
FOOTER_SIZE = 16
# A version 2 file's smallest possible tail: footer + end marker.
TAIL_SIZE = FOOTER_SIZE + len(END_MARKER)

# Column name -> dtype in the file (numpy spelling, always little-endian).
# The order is the order the writer lays the columns out in.
COLUMN_DTYPES: dict[str, str] = {
    "addr": "<u8",
    "type_index": "<u4",
    "size": "<u8",
    "length": "<i8",
    "flags": "|u1",
    "edge_count": "<u4",
    "repr_offsets": "<u8",
    "repr_blob": "|u1",
    "edge_target": "<u8",
    "edge_kind": "|u1",
    "edge_payload": "<i4",
    "type_addr": "<u8",
    "type_flags": "|u1",
    "root_addr": "<u8",
    "root_kind": "|u1",
    "root_label": "<u4",
    "string_offsets": "<u8",
    "string_blob": "|u1",
}

# Optional columns: allocation tracebacks recorded when the target ran with tracemalloc. A
# file has all of them or none (older files have none); the writer puts them after the others.
# See docs/format.md, "Allocation sites".
OPTIONAL_COLUMN_DTYPES: dict[str, str] = {
    "alloc_addr": "<u8",
    "alloc_trace": "<u4",
    "trace_offsets": "<u8",
    "trace_frames": "<u4",
    "frame_file": "<u4",
    "frame_line": "<u4",
}

# Columns whose number of entries follows another's: column -> (the one it follows, extra
# entries). "type_names" is the directory's list of names. The writer and the reader check the
# same rules from here.
LENGTH_FOLLOWS: dict[str, tuple[str, int]] = {
    "type_index": ("addr", 0),
    "size": ("addr", 0),
    "length": ("addr", 0),
    "flags": ("addr", 0),
    "edge_count": ("addr", 0),
    "repr_offsets": ("addr", 1),
    "edge_kind": ("edge_target", 0),
    "edge_payload": ("edge_target", 0),
    "type_addr": ("type_names", 0),
    "type_flags": ("type_names", 0),
    "root_kind": ("root_addr", 0),
    "root_label": ("root_addr", 0),
}
OPTIONAL_LENGTH_FOLLOWS: dict[str, tuple[str, int]] = {
    "alloc_trace": ("alloc_addr", 0),
    "frame_line": ("frame_file", 0),
}

# Every dtype a file may declare (also for columns this version does not know).
DTYPE_ITEMSIZE: dict[str, int] = {
    "|u1": 1,
    "|i1": 1,
    "<u2": 2,
    "<i2": 2,
    "<u4": 4,
    "<i4": 4,
    "<u8": 8,
    "<i8": 8,
    "<f8": 8,
}


def aligned(n: int) -> int:
    """Round ``n`` up to the next multiple of :data:`ALIGN`."""
    return (n + ALIGN - 1) // ALIGN * ALIGN
