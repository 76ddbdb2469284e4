"""The lab and the Runs page after a server restart: a run cut off by it is listed to its student, to train
again or dismiss."""

from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.serve.jobs import default_runner
from tests.app.helpers import open_alone
from tests.conftest import after_a_restart, tiny_config


def test_the_lab_lists_a_cut_off_run_to_train_again_or_dismiss(monkeypatch, linear_teacher, database_url):
    monkeypatch.setenv("KDLAB_DATABASE_URL", database_url)  # the app's own database: SQLite, then PostgreSQL
    database = open_database()
    student, token = create_student(database)
    store = DatabaseRunStore(database, student.id)
    for number, seed in ((1, 3), (2, 4)):
        store.reserve_number()
        store.note_start(f"cut-off-{token[:6]}-{number}", number, tiny_config(seed=seed, temperature=8).as_dict())
    after_a_restart(monkeypatch, database)

    assert any(
        "Runs 1, 2 were cut off" in warning.value for warning in open_alone("pages/runs.py", student=token).warning
    )
    at = open_alone("pages/distillation_lab.py", student=token)
    warnings = [warning.value for warning in at.warning]
    assert any(
        "Run 1 was cut off" in text and "mlp-20x1 from linear, T = 8" in text and "seed 3" in text for text in warnings
    )
    at.button(key=f"lab.interrupted.cut-off-{token[:6]}-1.dismiss").click().run()
    assert not any("Run 1 was cut off" in warning.value for warning in at.warning)
    at.button(key=f"lab.interrupted.cut-off-{token[:6]}-2.again").click().run()
    assert not at.exception
    assert store.interrupted() == []
    # Trained again as the next run: "Run 3: ..." while it trains, "Result of run 3: ..." once done (a tiny run can
    # finish before the page draws).
    assert "run 3" in "".join(subheader.value for subheader in at.subheader).lower()
    assert not any("cut off" in warning.value for warning in open_alone("pages/runs.py", student=token).warning)
    for job in default_runner().jobs():  # let the run trained again end before the process does
        assert default_runner().wait(job, timeout=120)
