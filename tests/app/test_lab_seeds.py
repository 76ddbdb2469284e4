"""The lab's Seeds control under AppTest: three seeds from one press of Train, one after another, each a
run of the student's, then the table and the paired interval in words; a link can set and lock it."""

from kdlab.classroom.lab_settings import config_fields, lab_defaults
from kdlab.experiments.distill import DistillConfig
from kdlab.experiments.seeds import GAIN_IS_REAL, LOSS_IS_REAL, SEED_MATTERS
from kdlab.serve.limits import check_cost
from kdlab.serve.request import TrainRequest
from tests.app.helpers import open_alone, run_until, texts

LAB = "pages/distillation_lab.py"
VERDICTS = (GAIN_IS_REAL, SEED_MATTERS, LOSS_IS_REAL)


def test_three_seeds_from_one_press_give_the_table_and_the_interval(linear_teacher):
    at = open_alone(LAB, {"lab.teacher": "linear"})
    assert at.slider(key="lab.seeds").value == 1  # one seed unless asked
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(61)  # seeds of its own: no other test's cached runs
    at.slider(key="lab.seeds").set_value(3)
    at.run()
    at.button(key="lab.train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Seeds 61 to 63" in texts(at.subheader)
    run_until(at, lambda at: "Over 3 of 3 seeds" in texts(at.success) + texts(at.info), timeout=240)
    assert not at.exception
    result = texts(at.success) + texts(at.info)
    assert "95% paired interval of the difference" in result and "of 3 seeds: **" in result
    assert any(verdict in result for verdict in VERDICTS)
    table = at.dataframe[0].value
    assert list(table["Seed"]) == [61, 62, 63] and list(table["Run"]) == [1, 2, 3]
    differences = table["Student alone: errors"] - table["Distilled: errors"]
    assert list(table["Fewer errors distilled"]) == list(differences)
    assert not at.button(key="lab.train").disabled  # the seeds are done: Train again

    runs = open_alone("pages/runs.py", student=at.query_params["s"])  # each seed is one of the student's runs
    assert len(runs.dataframe[0].value) == 3


def test_a_link_sets_and_locks_the_seeds_and_the_cap_counts_them(monkeypatch, sample_data):
    defaults = lab_defaults(len(sample_data.train)) | {"teacher": "linear"}
    one = TrainRequest.build(DistillConfig.build(**config_fields(defaults)), sample_data)
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "inf")
    teacher = one.plan["teacher"]  # 0 once the linear teacher is cached
    one_seed = check_cost(one.config, len(one.transfer_indices), teacher) - teacher
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", f"{teacher + 2.5 * one_seed:.6g}")  # room for two seeds, not five
    at = open_alone(LAB, query={"seeds": "5", "lock": "seeds", "teacher": "linear"})
    seeds = at.slider(key="lab.seeds")
    assert (seeds.value, seeds.disabled) == (5, True)
    assert "Locked by your teacher's assignment link at seeds = 5" in seeds.help
    assert "at 5 seeds" in texts(at.warning) and "at most 2 seeds" in texts(at.warning)
    assert "seeds=`9` is outside 1 to 5" in texts(open_alone(LAB, query={"seeds": "9"}).warning)
