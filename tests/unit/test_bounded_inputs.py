"""Values from strangers that reach the library: each is bounded where it is filed or read, so one student's
forged value never breaks what the class shares."""

from __future__ import annotations

import pytest

from kdlab.classroom.board import prediction_text, table_rows
from kdlab.classroom.classes import class_runs
from kdlab.db.database import open_database
from kdlab.runs.store import MAX_PREDICTED_ERRORS, MemoryRunStore, checked_prediction
from tests.conftest import make_class


def test_a_forged_prediction_number_is_filed_clamped_and_the_board_reads_it():
    """The browser's box stops at 10,000; a forged 10**5000 could not even be written as JSON (Python refuses to
    print an int of more than 4,300 digits), so the student's run failed to file."""
    make_class("HUGE-1", [[(4.0, 0.5, 60, 40, {"fewer": True, "by": 10**5000}), (4.0, 0.5, 60, 40, {"fewer": "x"})]])
    runs = class_runs(open_database(), "HUGE-1")
    assert [run.prediction for run in runs] == [{"fewer": True, "by": MAX_PREDICTED_ERRORS}, None]
    assert prediction_text(runs[0].prediction) == "fewer errors, by about 10,000"
    assert len(table_rows(runs)) == 2


@pytest.mark.parametrize(
    "forged, filed",
    [
        ({"fewer": False, "by": -(10**30)}, {"fewer": False, "by": -MAX_PREDICTED_ERRORS}),
        ({"fewer": True, "by": float("nan"), "made_at": float("inf")}, {"fewer": True, "by": None}),
        ({"fewer": True, "by": 12.7, "made_at": 5.0, "note": "x" * 10**6}, {"fewer": True, "by": 12, "made_at": 5.0}),
        ({"fewer": True, "by": True}, {"fewer": True, "by": None}),
        ({"by": 3}, None),
        ("fewer", None),
    ],
)
def test_a_prediction_keeps_only_its_fields_within_bounds(forged, filed):
    assert checked_prediction(forged) == filed
    assert MemoryRunStore().tagged(class_code=None, prediction=forged)._prediction == filed
