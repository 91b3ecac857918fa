"""Column widths of a DataTable set when its rows are set, not later.

Textual's DataTable measures new rows on its own idle and only ever widens a column
(``clear()`` keeps the widths). A table refilled from another widget's handler (the app's,
on the analysis messages) can therefore be painted with the widths of the columns' labels or of
an earlier fill: names clipped to one width shown in a column of another, the first-paint
"squashed columns" of the Types and Growth tables (after ``clear(columns=True)`` the columns
are as narrow as their labels until the table's next idle). :func:`fit_columns` widens each
column to the cells just added, so the first paint after a fill is already right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable


def fit_columns(table: DataTable[Any], rows: Sequence[Sequence[Text]]) -> None:
    """Make each auto-width column of ``table`` as wide as its label and its cells in ``rows``
    (the rows just added, in column order)."""
    for position, column in enumerate(table.ordered_columns):
        widest = column.label.cell_len
        for cells in rows:
            if position < len(cells):
                widest = max(widest, cells[position].cell_len)
        # never narrower than DataTable made it: the widths it keeps across a refill (a filter
        # narrowing the rows keeps the columns) are part of what the user sees today
        column.content_width = max(column.content_width, widest)
    table.refresh(layout=True)
