"""Export of run records: the runs table as CSV, one run as JSON."""

from __future__ import annotations

import csv
import io
import json

from kdlab.runs.record import RunRecord


def runs_csv(records: list[RunRecord]) -> str:
    """The runs table as CSV text (one row per run, accuracies as fractions)."""
    rows = [record.table_row() for record in records]
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def run_json(record: RunRecord) -> str:
    """One run as indented JSON (``RunRecord.as_dict``)."""
    return json.dumps(record.as_dict(), indent=2, allow_nan=False)
