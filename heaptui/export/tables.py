"""The type summary and the growth between two snapshots as CSV, for spreadsheets and scripts.

Plain numbers (bytes, counts), one header row, written with the :mod:`csv` module so that type
names with commas or quotes survive a round trip.
"""

from __future__ import annotations

import csv
from typing import TextIO

import numpy as np

from heaptui.model.diff import GrowthRow
from heaptui.model.summary import TypeRow

TYPE_COLUMNS = ["type", "count", "size", "share"]
RETAINED_COLUMN = "retained"
GROWTH_COLUMNS = [
    "type",
    "count_base",
    "count_now",
    "count_delta",
    "size_base",
    "size_now",
    "size_delta",
]


def write_types_csv(
    rows: list[TypeRow], out: TextIO, retained_by_type: np.ndarray | None = None
) -> None:
    """One row per type, biggest first; a ``retained`` column when retained sizes are given."""
    writer = csv.writer(out, lineterminator="\n")
    header = TYPE_COLUMNS + ([RETAINED_COLUMN] if retained_by_type is not None else [])
    writer.writerow(header)
    for row in rows:
        cells: list[object] = [row.name, row.count, row.size, f"{row.share:.6f}"]
        if retained_by_type is not None:
            cells.append(int(retained_by_type[row.type_index]))
        writer.writerow(cells)


def write_growth_csv(rows: list[GrowthRow], out: TextIO) -> None:
    """One row per type whose count or size changed, biggest size change first."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GROWTH_COLUMNS)
    for row in rows:
        writer.writerow(
            [getattr(row, column if column != "type" else "name") for column in GROWTH_COLUMNS]
        )
