"""The string table of a streamed snapshot: batches handed over during the walk, then the rest."""

from __future__ import annotations

import io
from itertools import pairwise

from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.read import read_snapshot_bytes
from heaptui.fileformat.write import SnapshotStreamWriter, write_snapshot


def test_strings_added_in_batches_read_back_as_one_table_in_order() -> None:
    batches = [["alpha", "b\u00e9ta"], [], ["gamma"], ["\u03b4elta", "alpha"]]  # repeats allowed
    tail = ["epsilon", ""]
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    for batch in batches:
        writer.add_strings(batch)
    raw = RawSnapshot(strings=list(tail))
    raw.repr_offsets.append(0)
    writer.finish(raw)
    arrays = read_snapshot_bytes(out.getvalue(), "streamed")
    blob = arrays.string_blob.tobytes()
    offsets = arrays.string_offsets.tolist()
    texts = [blob[a:b].decode("utf-8") for a, b in pairwise(offsets)]
    assert texts == [s for batch in batches for s in batch] + tail

    # The same table written whole gives the same bytes for the two string columns.
    whole = io.BytesIO()
    write_snapshot(RawSnapshot(strings=texts, repr_offsets=raw.repr_offsets), whole)
    again = read_snapshot_bytes(whole.getvalue(), "whole")
    assert again.string_offsets.tolist() == offsets
    assert again.string_blob.tobytes() == blob
