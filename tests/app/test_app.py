"""The classroom app under AppTest: every page renders, the main controls exist, a tiny lab run
goes through the UI to its result, and the explorer follows the temperature slider.

The tests pick the "linear" teacher, which trains in about a second on the offline sample;
the app trains it itself (as a background job) the first time a page asks for it.
"""

import threading

import pytest
from streamlit.testing.v1 import AppTest

from kdlab.experiments.distill import DistillConfig
from kdlab.ml.data import default_cache_dir
from kdlab.ml.models import describe_model
from kdlab.serve.jobs import default_runner
from kdlab.teachers.cache import teacher_cache_path
from kdlab.teachers.teacher import default_teacher_epochs
from kdlab.ui.pages import PAGES
from tests.app.helpers import chart_spec, open_alone, open_page, run_until, texts

PAGE_PATHS = [entry.path for entry in PAGES]  # the navigation's table: a page added there is tested here
TEACHER = "linear"
LAB_KEYS = [
    "lab.teacher",
    "lab.student.family",
    "lab.student.width",
    "lab.student.depth",
    "lab.temperature",
    "lab.alpha",
    "lab.epochs",
    "lab.learning_rate",
    "lab.batch_size",
    "lab.train_size",
    "lab.seed",
]


pytestmark = pytest.mark.usefixtures("training_threads_as_in_the_app")  # tests/app/conftest.py


@pytest.fixture(scope="module")
def explorer(sample_data) -> AppTest:
    """The explorer with the linear teacher, trained by the app on first use if needed."""
    epochs = default_teacher_epochs(len(sample_data.train))
    cached = teacher_cache_path(default_cache_dir(), TEACHER, sample_data, epochs, 0).exists()
    at = open_alone("pages/dark_knowledge.py", {"explorer.teacher": TEACHER})
    if not cached:  # first use: the page trains the teacher in a job and shows its progress
        assert f"Training the teacher {TEACHER}" in texts(at.info)
        assert at.get("progress")
    return run_until(at, lambda at: len(at.select_slider) > 0, timeout=180)


def test_home_explains_distillation_and_where_to_start():
    at = open_page()
    assert not at.exception
    assert "Knowledge distillation" in at.title[0].value
    assert len(at.latex) >= 2
    assert "Start here" in texts(at.subheader)
    assert "1. Dark knowledge explorer" in texts(at.markdown) + texts(at.get("page_link"))


def test_the_sidebar_links_every_page_of_the_table_in_order():
    at = open_page("pages/runs.py")
    links = [link.proto for link in at.sidebar.get("page_link")]
    expected = [(entry.title, "" if entry is PAGES[0] else entry.url_path) for entry in PAGES]  # Home: the root
    assert [(link.label, link.page) for link in links[: len(PAGES)]] == expected


def test_sidebar_shows_data_device_and_teacher_cache(isolated_environment):
    at = open_page()
    sidebar = texts(at.sidebar.caption)
    assert "Offline MNIST sample" in sidebar
    assert "KDLAB_DATA_DIR" in sidebar  # how to get the full set
    assert "CPU" in sidebar
    assert str(isolated_environment) not in sidebar  # a classroom server never shows its file-system paths


@pytest.mark.parametrize("page", PAGE_PATHS)
def test_every_page_renders(page, explorer):
    at = open_page(page, {"explorer.teacher": TEACHER})
    assert not at.exception, [e.value for e in at.exception]
    assert at.title


@pytest.mark.parametrize("page", PAGE_PATHS)
def test_every_page_renders_alone(page, explorer):
    at = open_alone(page, {"explorer.teacher": TEACHER})
    assert not at.exception, [e.value for e in at.exception]


def test_lab_has_the_main_controls():
    at = open_page("pages/distillation_lab.py")
    for key in LAB_KEYS:
        assert at.session_state[key] is not None, key
    assert at.button(key="lab.train").label == "Train"
    assert "14.4" in texts(at.latex)  # alpha T^2 with the defaults T = 4, alpha = 0.9
    student = describe_model(DistillConfig().student)
    assert f"Student {student.name}: {student.parameters:,} parameters" in texts(at.caption)
    at.slider(key="lab.alpha").set_value(0.5).run()
    assert r"0.5\cdot4^2" in texts(at.latex)


def test_lab_previews_the_cached_teachers_soft_targets_at_the_chosen_temperature(explorer):
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})  # the explorer cached it
    before = chart_spec(at, "lab.preview")
    assert "T = 4" in before["layout"]["title"]["text"]
    assert sum(before["data"][1]["y"]) == pytest.approx(1.0, abs=1e-4)
    at.select_slider(key="lab.temperature").set_value(20.0).run()
    after = chart_spec(at, "lab.preview")
    assert "T = 20" in after["layout"]["title"]["text"]
    assert max(after["data"][1]["y"]) < max(before["data"][1]["y"])  # a hotter T is flatter
    assert after["data"][0]["y"] == before["data"][0]["y"]  # T = 1 does not move
    assert "first test image" in texts(at.caption)


def test_lab_settings_survive_a_visit_to_another_page():
    at = open_page("pages/distillation_lab.py")
    at.slider(key="lab.epochs").set_value(7)
    at.select_slider(key="lab.temperature").set_value(8.0)
    at.run()
    at.switch_page("pages/home.py")
    at.run()
    at.switch_page("pages/distillation_lab.py")
    at.run()
    assert at.slider(key="lab.epochs").value == 7
    assert at.select_slider(key="lab.temperature").value == 8.0


def test_lab_explains_impossible_settings():
    at = open_page("pages/distillation_lab.py")
    at.select_slider(key="lab.train_size").set_value(500)
    at.select_slider(key="lab.batch_size").set_value(1024)
    at.run()
    assert not at.exception
    assert "Batch size 1024 is larger than the training set" in texts(at.error)
    assert at.button(key="lab.train").disabled


def test_tiny_lab_run_through_the_ui_shows_results():
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.run()
    at.button(key="lab.train").click()
    at.run()
    assert at.get("progress"), "the run shows a progress bar"
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader))
    assert not at.exception
    labels = [metric.label for metric in at.metric]
    assert any(label.startswith("Teacher") for label in labels) and "Distilled student" in labels
    assert "errors" in texts(at.success) + texts(at.info) + texts(at.warning)
    assert not at.button(key="lab.train").disabled
    assert "ONNX" in " ".join(button.proto.label for button in at.get("download_button"))

    # A new session with the same ?s= (a reload, another tab): the run comes from the database.
    runs = open_alone("pages/runs.py", student=at.query_params["s"])
    assert not runs.exception
    assert len(runs.dataframe) == 1
    assert runs.query_params["s"] == at.query_params["s"]
    download_labels = " ".join(button.proto.label for button in runs.get("download_button"))
    assert "CSV" in download_labels and "JSON" in download_labels and "weights" in download_labels
    assert "ONNX" in download_labels
    assert runs.multiselect(key="runs.overlay").value


def test_a_busy_server_queues_the_run_and_shows_its_place():
    release = threading.Event()
    slots = default_runner().max_concurrent  # every trainer busy (one per core by default)
    blockers = [
        default_runner().submit(f"another student's run {n}", lambda context: release.wait(120)) for n in range(slots)
    ]
    try:
        # A seed of its own: the result cache would serve a run another test already trained.
        at = tiny_lab_run(open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER}), seed=21)
        assert "number 1 in the queue" in at.get("progress")[0].proto.text
        assert at.button(key="lab.progress.stop").label == "Leave the queue"
    finally:
        release.set()
    for blocker in blockers:
        default_runner().wait(blocker, timeout=10)
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader))


def test_runs_page_without_runs_points_to_the_lab():
    at = open_alone("pages/runs.py")
    assert "No runs yet" in texts(at.info)


def test_explorer_reacts_to_the_temperature_slider(explorer):
    at = explorer
    assert not at.exception
    before = chart_spec(at, "explorer.bars")
    assert "T = 4" in before["layout"]["title"]["text"]
    at.select_slider(key="explorer.temperature").set_value(10.0).run()
    after = chart_spec(at, "explorer.bars")
    assert "T = 10" in after["layout"]["title"]["text"]
    assert after["data"][1]["y"] != before["data"][1]["y"]
    assert after["data"][0]["y"] == before["data"][0]["y"]  # T = 1 does not move
    assert chart_spec(at, "explorer.entropy")["data"][1]["x"] == [10.0]
    assert "At T = 10" in texts(at.markdown)


def test_explorer_picks_digits_three_ways(explorer):
    at = explorer
    at.radio(key="explorer.digit").set_value(7).run()
    assert "labelled 7" in " ".join(caption for image in at.image for caption in image.captions)
    at.radio(key="explorer.mode").set_value("Random").run()
    at.button(key="explorer.random").click().run()
    assert not at.exception
    at.radio(key="explorer.mode").set_value("Most confusing").run()
    at.slider(key="explorer.rank").set_value(2).run()
    assert not at.exception


def test_a_missing_data_folder_is_explained_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("KDLAB_DATA_DIR", str(tmp_path / "nowhere"))
    at = open_page("pages/distillation_lab.py")
    assert not at.exception
    assert "does not exist" in texts(at.error)


def tiny_lab_run(at: AppTest, *, seed: int) -> AppTest:
    """Set a one-epoch run on 500 images with ``seed`` and press Train."""
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(seed)
    at.run()
    return at.button(key="lab.train").click().run()


def test_a_student_code_keeps_the_runs_across_sessions_and_pages():
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    assert "s" not in at.query_params  # a visit alone makes no student
    run_until(tiny_lab_run(at, seed=11), lambda at: "Result of run 1" in texts(at.subheader))
    token = at.query_params["s"]
    assert len(token) >= 22 and not at.warning  # the first Train gets a code silently

    reloaded = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER}, student=token)
    assert "Result of run 1" in texts(reloaded.subheader)  # the latest run, from the database
    assert reloaded.query_params["s"] == token
    stranger = open_alone("pages/runs.py")
    assert "No runs yet" in texts(stranger.info) and "s" not in stranger.query_params

    app = open_page("pages/runs.py")  # through app.py's navigation: the code stays in the URL
    app.query_params["s"] = token
    app.run()
    app.switch_page("pages/home.py")
    app.run()
    assert app.query_params["s"] == token


def test_an_unknown_student_code_leaves_the_url_with_a_warning():
    unknown = "A" * 32
    at = open_alone("pages/runs.py", student=unknown)
    assert not at.exception
    assert "student code was not recognised" in texts(at.warning)
    assert "s" not in at.query_params  # a new code comes with the first Train
    malformed = open_alone("pages/runs.py", student="<script>alert(1)</script>")
    assert "not recognised" in texts(malformed.warning) and "s" not in malformed.query_params


def test_a_run_done_before_comes_at_once_from_the_cache():
    first = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    run_until(tiny_lab_run(first, seed=12), lambda at: "Result of run 1" in texts(at.subheader))

    second = tiny_lab_run(open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER}), seed=12)
    assert "trained earlier on this server" in texts(second.info)  # in the same page run: no job, no waiting
    assert "Result of run 1" in texts(second.subheader) and not second.get("progress")
    assert [metric.label for metric in second.metric if metric.label == "Distilled student"]
    runs = open_alone("pages/runs.py", student=second.query_params["s"])
    assert runs.dataframe[0].value["source"].tolist() == ["from the cache"]

    second.button(key="lab.again").click().run()  # "Train it again live": a real job
    assert second.get("progress") and "trained earlier" not in texts(second.info)
    run_until(second, lambda at: "Result of run 2" in texts(at.subheader))


def test_a_run_of_another_temperature_says_its_baseline_was_trained_earlier():
    first = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    run_until(tiny_lab_run(first, seed=14), lambda at: "Result of run 1" in texts(at.subheader))
    assert "student alone was trained earlier" not in texts(first.caption)

    second = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    second.select_slider(key="lab.temperature").set_value(10.0)
    run_until(tiny_lab_run(second, seed=14), lambda at: "Result of run 1" in texts(at.subheader))
    assert not second.exception
    assert "student alone was trained earlier for the same seed" in texts(second.caption)


def test_a_damaged_database_is_explained_and_the_lab_still_works(monkeypatch, tmp_path):
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"not a database at all " * 200)
    before = damaged.read_bytes()
    monkeypatch.setenv("KDLAB_DATABASE_URL", f"sqlite:///{damaged}")
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    assert not at.exception and not at.error  # a visit does not touch the database
    tiny_lab_run(at, seed=13)  # the first Train needs a student: the database is asked, and explained
    assert "The run database is damaged" in texts(at.error) and str(tmp_path) not in texts(at.error)
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader))
    runs = open_alone("pages/runs.py", {"kdlab.runs": at.session_state["kdlab.runs"]})
    assert runs.dataframe[0].value["source"].tolist() == ["not saved"]
    assert damaged.read_bytes() == before  # never deleted or overwritten


def test_a_reload_during_a_run_follows_it_again_and_can_stop_it():
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    at.slider(key="lab.epochs").set_value(50)
    at.select_slider(key="lab.batch_size").set_value(16)
    at.number_input(key="lab.seed").set_value(14)
    at.run()
    at.button(key="lab.train").click().run()
    assert at.get("progress")

    reloaded = open_alone("pages/distillation_lab.py", student=at.query_params["s"])  # the same link, a new session
    assert reloaded.get("progress") and "Run 1:" in texts(reloaded.subheader)
    assert reloaded.button(key="lab.train").disabled
    reloaded.button(key="lab.progress.stop").click().run()
    run_until(reloaded, lambda at: "Result of run 1" in texts(at.subheader))
    assert "Run 1 stopped" in texts(reloaded.warning)


def test_a_reload_during_a_run_draws_the_live_curves_with_the_runs_own_settings():
    # The live view reads the run's settings from its request (the ticket), not from this session's
    # controls: a new session (a reload) has none of its own yet.
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    at.slider(key="lab.epochs").set_value(50)
    at.select_slider(key="lab.batch_size").set_value(16)
    at.number_input(key="lab.seed").set_value(15)
    at.run()
    at.button(key="lab.train").click().run()

    reloaded = open_alone("pages/distillation_lab.py", student=at.query_params["s"])
    run_until(reloaded, lambda at: any("fixed set of" in caption.value for caption in at.caption))
    subset = DistillConfig().training.curve_test_images
    assert f"a fixed set of {subset:,} test images" in texts(reloaded.caption)
    assert chart_spec(reloaded, "lab.live.accuracy")["layout"]["xaxis"]["range"] == pytest.approx([0, 50 * 1.02])
    reloaded.button(key="lab.progress.stop").click().run()
    run_until(reloaded, lambda at: "Result of run 1" in texts(at.subheader))
