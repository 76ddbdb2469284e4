"""Assignment links: every URL value checked (kdlab.classroom.links), links built and parsed back, and the
lab's widths matching the links'. The lab following a link is tests/app/test_lab_links.py."""

from urllib.parse import parse_qs, urlparse

import pytest

from kdlab.classroom.lab_settings import LAB_NAMES, lab_defaults
from kdlab.classroom.links import (
    MAX_MESSAGES,
    MAX_VALUE_LENGTH,
    check_link,
    parse_class_code,
    parse_explorer_link,
    parse_lab_link,
    parse_replay_link,
)
from kdlab.classroom.urls import lab_link_params, link_url
from kdlab.experiments.distill import DistillConfig
from kdlab.i18n import speaking
from kdlab.ml.methods.registry import method_settings

TRAIN_COUNT = 4000  # the offline sample


def test_good_values_become_the_controls_values():
    link = parse_lab_link(
        {
            "T": "8",
            "alpha": "0.5",
            "epochs": "3",
            "lr": "1e-3",
            "batch": "64",
            "train_size": "500",
            "seed": "7",
            "teacher": "linear",
            "student": "mlp-100x1",
            "soft": "DKD",
            "beta": "4",
            "seeds": "3",
            "schedule": "Learned",
            "standardise": "on",
        },
        TRAIN_COUNT,
    )
    assert link.problems == ()
    assert link.values == {
        "teacher": "linear",
        "student": "mlp-100x1",
        "T": 8.0,
        "alpha": 0.5,
        "soft": "dkd",
        "beta": 4.0,
        "epochs": 3,
        "lr": 0.001,
        "batch": 64,
        "train_size": 500,
        "seed": 7,
        "seeds": 3,
        "schedule": "learned",
        "standardise": True,
    } | {  # the other methods' own settings: their controls' values while greyed out, the defaults
        name: setting.default for name, (method, setting) in method_settings().items() if method.name != "dkd"
    }


def test_the_number_of_seeds_goes_to_the_press_of_train_not_to_each_runs_config():
    from kdlab.classroom.lab_settings import config_fields, request_fields

    values = parse_lab_link({"seeds": "4", "seed": "2"}, TRAIN_COUNT).values
    assert request_fields(values) == {"seeds": 4} and "seeds" not in config_fields(values)
    assert request_fields(lab_defaults(TRAIN_COUNT)) == {"seeds": 1}
    assert DistillConfig.build(**config_fields(values)).training.seed == 2
    for raw, why in (("0", "outside 1 to 5"), ("2.5", "not a whole number"), ("x", "not a whole number")):
        link = parse_lab_link({"seeds": raw}, TRAIN_COUNT)
        assert link.values["seeds"] == 1 and why in link.problems[0]


def test_beta_counts_only_with_the_dkd_soft_loss():
    from kdlab.classroom.lab_settings import config_fields

    kd = parse_lab_link({"beta": "4"}, TRAIN_COUNT).values
    assert kd["soft"] == "kd" and "beta" not in config_fields(kd)  # the config leaves it unset
    assert DistillConfig.build(**config_fields(kd)) == DistillConfig.build(**config_fields(lab_defaults(TRAIN_COUNT)))
    dkd = parse_lab_link({"soft": "dkd", "beta": "4"}, TRAIN_COUNT).values
    assert DistillConfig.build(**config_fields(dkd)).beta == 4.0


def test_a_link_with_one_setting_resets_the_others_to_the_defaults():
    link = parse_lab_link({"T": "8"}, TRAIN_COUNT)
    assert link.values == lab_defaults(TRAIN_COUNT) | {"T": 8.0}
    config = DistillConfig()
    assert link.values["student"] == config.student and link.values["epochs"] == config.training.epochs


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"T": "abc"}, "T=`abc` is not a number; using T = {T}"),
        ({"T": "7"}, "T=`7` is not one of the lab's temperatures (1, 1.5, 2,"),
        ({"T": "inf"}, "T=`inf` is not a number"),
        ({"alpha": "1.5"}, "alpha=`1.5` must be from 0 to 1 in steps of 0.05"),
        ({"alpha": "0.33"}, "alpha=`0.33` must be from 0 to 1 in steps of 0.05"),
        ({"epochs": "0"}, "epochs=`0` is outside 1 to"),
        ({"epochs": "2.5"}, "epochs=`2.5` is not a whole number"),
        ({"lr": "0.5"}, "lr=`0.5` is not one of the lab's learning rates"),
        ({"batch": "100"}, "batch=`100` is not one of the lab's batch sizes"),
        ({"train_size": "1234"}, "train_size=`1234` is not one of the lab's training-set sizes"),
        ({"seed": "-1"}, "seed=`-1` is outside 0 to 9999"),
        ({"teacher": "resnet"}, "teacher=`resnet` is not a teacher kdlab knows"),
        ({"student": "mlp-64x1"}, "student=`mlp-64x1` has a width the lab does not offer"),
        ({"student": "gpt"}, "student=`gpt` is not a student kdlab knows"),
        (
            {"soft": "dark"},
            "soft=`dark` is not a method (kd, tckd, nckd, dkd, logits, dist, hints, at, rkd, sp); using soft = kd",
        ),
        ({"beta": "3"}, "beta=`3` is not one of the lab's beta values (1, 2, 4, 8, 16)"),
        ({"lock": "T,colour"}, "lock=`colour` is not a setting of this page"),
        ({"class": "no spaces!"}, "class=`no spaces!` is not a class code"),
    ],
)
def test_each_bad_value_is_named_with_what_is_allowed(params, message):
    link = parse_lab_link(params, TRAIN_COUNT)
    expected = message.format(T=f"{DistillConfig().training.temperature:g}")
    assert any(problem.startswith(expected) for problem in link.problems), link.problems
    name = next(iter(params))
    if name in LAB_NAMES:  # the control keeps the default
        assert link.values[name] == lab_defaults(TRAIN_COUNT)[name]


def test_a_size_the_data_lacks_becomes_all_of_it_with_a_note():
    link = parse_lab_link({"train_size": "10000"}, TRAIN_COUNT)
    assert link.values["train_size"] == TRAIN_COUNT
    assert "only 4,000 training images" in link.problems[0]
    assert parse_lab_link({"train_size": "all"}, TRAIN_COUNT).values["train_size"] == TRAIN_COUNT


def test_a_hostile_value_is_echoed_short_and_without_markdown():
    link = parse_lab_link({"T": "![x](http://evil.example/a.png)`" + "9" * 100}, TRAIN_COUNT)
    problem = link.problems[0]
    assert problem.startswith("T=`![x](http://evil.example/a.png...` is not a number")  # a code span: no image
    assert problem.count("`") == 2 and len(problem) < 200


def test_locks_and_the_extras():
    link = parse_lab_link({"lock": "all", "class": "phys-7", "predict": "1"}, TRAIN_COUNT)
    assert link.locked == set(LAB_NAMES) and link.values == lab_defaults(TRAIN_COUNT)
    assert link.class_code == "PHYS-7" and link.predict
    only_class = parse_lab_link({"class": "X1"}, TRAIN_COUNT)
    assert not only_class.sets_controls and only_class.values == {}
    assert parse_class_code("a") == (
        None,
        "class=`a` is not a class code (2 to 16 letters, digits or dashes, such as PHYS-7)",
    )


def test_explorer_and_replay_parameters():
    link = parse_explorer_link({"digit": "3", "T": "0.5", "lock": "T"})
    assert link.values == {"digit": 3, "T": 0.5} and link.locked == {"T"}
    assert parse_explorer_link({"digit": "11"}).problems[0].startswith("digit=`11` is outside 0 to 9")
    assert parse_replay_link({"replay": "omit-3", "bias": "3.5"}).values == {"replay": "omit-3", "bias": 3.5}
    assert parse_replay_link({"bias": "99"}).problems[0].startswith("bias=`99` is outside -15 to 15")
    assert parse_replay_link({"replay": "omit-4"}).problems[0].startswith("replay=`omit-4` is not a replay")


def test_every_link_may_carry_a_language_of_kdlab():
    for page in ("lab", "explorer", "replays", "board", "lessons"):
        assert check_link(page, {"lang": "vi"}) == [] and check_link(page, {"lang": "xx"}) == []
    assert check_link("lab", {"lang": "fr"}) == [
        "lang=`fr` is not a language of kdlab (en, es, vi); the page keeps its language"
    ]


def test_check_link_knows_pages_and_parameter_names():
    assert check_link("lab", {"T": "8", "lock": "T"}) == []
    assert check_link("lab", {"temperature": "8"})[0].startswith("`temperature` is not a parameter of the lab page")
    assert check_link("kitchen", {})[0].startswith("page `kitchen` is not one of")


def test_built_links_round_trip_and_never_carry_the_student_code():
    settings = {
        "teacher": "linear",
        "student": "mlp-100x1",
        "T": 8.0,
        "alpha": 0.5,
        "epochs": 3,
        "lr": 0.001,
        "batch": 64,
        "train_size": 500,
        "seed": 7,
        "soft": "nckd",
        **{name: setting.default for name, (_, setting) in method_settings().items()},  # greyed out: the defaults
        "seeds": 2,
        "schedule": "annealed",
        "standardise": True,
        "s": "secret-student-token-0123456789",
    }
    url = link_url(
        "http://class.example:8501/",
        "lab",
        lab_link_params(settings, lock=["T", "alpha"], class_code="PHYS-7", predict=True),
    )
    parsed = urlparse(url)
    assert parsed.path == "/distillation_lab" and "secret" not in url
    params = {name: values[-1] for name, values in parse_qs(parsed.query).items()}
    link = parse_lab_link(params, TRAIN_COUNT)
    assert link.problems == () and link.locked == {"T", "alpha"} and link.class_code == "PHYS-7" and link.predict
    assert link.values == {name: value for name, value in settings.items() if name != "s"}
    assert lab_link_params(settings, lock=list(LAB_NAMES))["lock"] == "all"


def test_a_long_lock_gives_one_message_naming_a_few_unknown_names():
    lock = ",".join(["colour", "size", "colour", "mood", "T", "x", "colour"])
    link = parse_lab_link({"lock": lock}, TRAIN_COUNT)
    assert link.locked == {"T"}
    assert link.problems == (
        "lock=`colour`, `size`, `mood` and 1 more are not settings of this page "
        f"({', '.join(LAB_NAMES)}, or all); nothing else is locked because of them",
    )


def test_a_value_longer_than_the_bound_is_refused_before_it_is_parsed():
    link = parse_lab_link({"T": "8" * (MAX_VALUE_LENGTH + 1), "lock": "x," * 5000, "alpha": "0.5"}, TRAIN_COUNT)
    assert link.values["T"] == lab_defaults(TRAIN_COUNT)["T"] and link.values["alpha"] == 0.5
    assert [problem.split(" is ")[1] for problem in link.problems] == [
        f"longer than {MAX_VALUE_LENGTH} characters, so it was not read"
    ] * 2
    assert link.locked == frozenset()


def test_a_link_with_many_bad_values_shows_a_few_and_counts_the_rest():
    bad = {name: "nonsense" for name in ("T", "alpha", "epochs", "lr", "batch", "seed")}
    problems = parse_lab_link(bad, TRAIN_COUNT).problems
    assert len(problems) == MAX_MESSAGES + 1 and problems[-1] == "3 more of this link's values were not used either"
    assert len(check_link("lab", {f"p{index}": "1" for index in range(1000)})) == MAX_MESSAGES + 1


def test_predict_is_one_or_zero_and_says_so_otherwise():
    assert parse_lab_link({"predict": "yes"}, TRAIN_COUNT).predict
    link = parse_lab_link({"predict": "maybe"}, TRAIN_COUNT)
    assert not link.predict and link.problems == ("predict=`maybe` is not 1 or 0; no prediction is asked for",)


def test_live_is_one_or_zero_and_says_so_otherwise():
    assert parse_lab_link({"live": "1"}, TRAIN_COUNT).live and not parse_lab_link({}, TRAIN_COUNT).live
    assert not parse_lab_link({"live": "off"}, TRAIN_COUNT).live
    link = parse_lab_link({"live": "<b>now</b>", "predict": "1"}, TRAIN_COUNT)
    assert link.predict and not link.live
    assert link.problems == ("live=`<b>now</b>` is not 1 or 0; a result from the cache is shown at once",)
    assert check_link("lab", {"live": "1" * 300})[0].startswith("live=`111")  # refused before it is read


def test_fifty_thousand_unknown_locks_make_one_message():
    """What a shared 512 Ki-character link (Streamlit's limit) asks: one message per unknown name was 50,000."""
    lock = ",".join(f"x{index:05d}" for index in range(50_000))
    for parse in (lambda params: parse_lab_link(params, TRAIN_COUNT), parse_explorer_link):
        assert len(parse({"lock": lock}).problems) == 1
    assert len(parse_lab_link({"lock": lock[:MAX_VALUE_LENGTH]}, TRAIN_COUNT).problems) == 1


def test_advanced_opens_the_advanced_sections_and_a_forged_value_is_one_message():
    assert parse_lab_link({"advanced": "1"}, 4000).advanced and parse_explorer_link({"advanced": "on"}).advanced
    assert not parse_lab_link({}, 4000).advanced and not parse_lab_link({"advanced": "0"}, 4000).problems
    for link in (parse_lab_link({"advanced": "sure"}, 4000), parse_explorer_link({"advanced": "sure"})):
        assert not link.advanced
        assert link.problems == ("advanced=`sure` is not 1 or 0; the Advanced sections start closed",)
    assert not parse_lab_link({"advanced": "1"}, 4000).sets_controls  # it opens a section, it sets no control
    assert check_link("lab", {"advanced": "1"}) == [] and check_link("explorer", {"advanced": "1"}) == []


def test_a_links_problems_are_in_the_current_language_with_its_values_as_written():
    with speaking("es"):
        assert parse_lab_link({"T": "abc"}, TRAIN_COUNT).problems[0] == "T=`abc` no es un número; se usa T = 4"
        assert parse_explorer_link({"digit": "11"}).problems[0] == (
            "digit=`11` está fuera del intervalo de 0 a 9; elige abajo un dígito del 0 al 9"
        )
        many = parse_lab_link({"lock": "a,b,c,d"}, TRAIN_COUNT).problems[0]
        assert many.startswith("lock=`a`, `b`, `c` y 1 más no son ajustes de esta página")
        assert (
            parse_lab_link({"train_size": "10000"}, TRAIN_COUNT)
            .problems[0]
            .endswith("solo tienen 4.000 imágenes de entrenamiento; se usan las 4.000")
        )
    with speaking("vi"):
        problem = parse_explorer_link({"T": "7.5"}).problems[0]
        assert problem.startswith("T=`7.5` không nằm trong các nhiệt độ của trình khám phá (0.5, 0.7, 1, 1.5,")
        assert check_link("lab", {"lang": "fr"}) == [
            "lang=`fr` không phải là một ngôn ngữ của kdlab (en, es, vi); trang giữ nguyên ngôn ngữ"
        ]
