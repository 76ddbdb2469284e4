"""Property-based tests of every parser a stranger's input reaches: each link of each page, the lesson files,
the canvas's PNG and pixels, a stored prediction, a teacher name. Whatever is sent, the answer is a clean
result or a clear message (a ``ValueError`` of ours, never another exception), in bounded time and memory.

The examples are the same on every run (``tests/conftest.py``'s hypothesis profile); ``HYPOTHESIS_PROFILE=explore``
draws new ones. ``python -m pytest tests/unit/test_fuzz.py --hypothesis-show-statistics`` counts them.
"""

from __future__ import annotations

import ast
import json
import tracemalloc

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdlab.classroom.board_groups import GROUP_NAMES, MAX_GROUPING
from kdlab.classroom.lab_settings import LAB_NAMES, config_fields
from kdlab.classroom.lessons import Lesson, LessonError, Question, Step, parse_lesson
from kdlab.classroom.links import (
    ADVANCED,
    BOARD_PARAMETERS,
    EXPLORER_PARAMETERS,
    KNOWN_PARAMETERS,
    LINK_EXTRAS,
    MAX_MESSAGES,
    MAX_VALUE_LENGTH,
    REPLAY_PARAMETERS,
    ParsedLink,
    check_link,
    parse_board_link,
    parse_explorer_link,
    parse_lab_link,
    parse_replay_link,
)
from kdlab.classroom.notebooks import lesson_notebook
from kdlab.classroom.pages import LINK_PAGES
from kdlab.classroom.values import in_range, one_of, parse_float, parse_int
from kdlab.db.students import is_valid_token
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.drawing import IMAGE_SIZE, MAX_CANVAS_PIXELS, CanvasError, canvas_from_png, digit_from_canvas
from kdlab.runs.store import MAX_PREDICTED_ERRORS, checked_prediction
from kdlab.teachers.ensembles import parse_teacher_name
from tests.strategies import hostile_text, url_params, url_value
from tests.unit.png_bombs import canvas_png, png

PARSERS = settings(max_examples=400, deadline=1000, suppress_health_check=[HealthCheck.too_slow])
MESSAGE_LENGTH = 1200  # a message names the value (30 characters at most) and what is allowed: never the value whole
CANVAS = (280, 280)


def assert_clear(link: ParsedLink) -> None:
    """A link's answer: a few short messages, each once."""
    assert len(link.problems) <= MAX_MESSAGES + 1
    assert len(set(link.problems)) == len(link.problems)
    assert all(isinstance(problem, str) and 0 < len(problem) < MESSAGE_LENGTH for problem in link.problems)


@PARSERS
@given(params=url_params((*LAB_NAMES, *LINK_EXTRAS)), train_count=st.sampled_from([None, 4000, 60000, 300]))
def test_any_lab_link_sets_valid_controls_or_says_why(params, train_count):
    tracemalloc.start()
    link = parse_lab_link(params, train_count)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5 * 2**20  # the parse of any link, in memory: the link itself is at most 512 Ki characters
    assert_clear(link)
    assert link.locked <= set(LAB_NAMES) and set(link.values) <= set(LAB_NAMES)
    if link.sets_controls:
        assert set(link.values) == set(LAB_NAMES)
        try:
            DistillConfig.build(**config_fields(link.values))
        except ValueError:
            pass  # values each fine, together not (a batch larger than the training set): the lab says why


@PARSERS
@given(params=url_params((*EXPLORER_PARAMETERS, "lock", ADVANCED)))
def test_any_explorer_link_is_a_digit_and_a_temperature_or_a_message(params):
    link = parse_explorer_link(params)
    assert_clear(link)
    assert link.values.get("digit", 0) in range(10) and link.locked <= set(link.values)


@PARSERS
@given(params=url_params(REPLAY_PARAMETERS))
def test_any_replay_link_is_a_replay_and_a_bias_or_a_message(params):
    link = parse_replay_link(params)
    assert_clear(link)
    assert -15 <= link.values.get("bias", 0) <= 15


@PARSERS
@given(params=url_params(BOARD_PARAMETERS))
def test_any_board_link_is_a_class_code_and_a_grouping_or_a_message(params):
    link = parse_board_link(params)
    assert_clear(link)
    assert link.class_code is None or (2 <= len(link.class_code) <= 16 and link.class_code.isascii())
    vary = link.values.get("vary", ())
    assert len(vary) <= MAX_GROUPING and set(vary) <= set(GROUP_NAMES) and len(set(vary)) == len(vary)


@PARSERS
@given(page=st.one_of(st.sampled_from(list(LINK_PAGES)), hostile_text), params=url_params(("T", "class", "lesson")))
def test_check_link_gives_a_few_messages_for_any_page_and_parameters(page, params):
    problems = check_link(page, params)
    assert len(problems) <= MAX_MESSAGES + 1 and all(len(problem) < MESSAGE_LENGTH for problem in problems)
    if page in KNOWN_PARAMETERS and not problems:
        assert set(params) <= set(KNOWN_PARAMETERS[page])


@PARSERS
@given(raw=hostile_text, low=st.integers(-100, 100), span=st.integers(0, 100))
def test_a_number_from_a_url_is_finite_and_in_range_or_none(raw, low, span):
    value = parse_float(raw)
    assert value is None or np.isfinite(value)
    whole = parse_int(raw)
    assert whole is None or (isinstance(whole, int) and whole == value)
    ranged, why = in_range(raw, low, low + span)
    assert (ranged is None) == bool(why) and (ranged is None or low <= ranged <= low + span)
    option, why = one_of(raw, (0.5, 1.0, 4.0), "temperatures")
    assert (option is None) == bool(why) and option in (None, 0.5, 1.0, 4.0)


@PARSERS
@given(name=hostile_text)
def test_a_teacher_name_is_canonical_or_a_value_error(name):
    try:
        parsed = parse_teacher_name(name)
    except ValueError as error:
        assert len(str(error)) < 2 * MAX_VALUE_LENGTH + MESSAGE_LENGTH
        return
    assert parse_teacher_name(parsed.name) == parsed and 1 <= len(parsed.architectures) <= 5


@PARSERS
@given(token=url_value)
def test_a_student_code_is_checked_before_any_lookup(token):
    assert is_valid_token(token) in (True, False)


@PARSERS
@given(
    prediction=st.one_of(
        st.dictionaries(
            st.sampled_from(["fewer", "by", "made_at", "note"]),
            st.one_of(
                st.booleans(),
                st.integers(),
                st.sampled_from([10**5000, -(10**5000), 10**400]),  # over the 4,300 digits Python will print
                st.floats(allow_nan=True, allow_infinity=True),
                hostile_text,
                st.none(),
            ),
        ),
        hostile_text,
        st.none(),
    )
)
def test_a_prediction_is_filed_within_bounds_whatever_it_holds(prediction):
    checked = checked_prediction(prediction)
    if checked is None:
        return
    assert set(checked) <= {"fewer", "by", "made_at"} and isinstance(checked["fewer"], bool)
    assert checked["by"] is None or abs(checked["by"]) <= MAX_PREDICTED_ERRORS
    json.dumps(checked, allow_nan=False)  # fits the database's JSON column


# A lesson file's front matter, written as TOML text: fields with hostile values, steps with links and lists.
toml_text = st.one_of(
    hostile_text.map(json.dumps),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "9" * 5000, "1e400", "true", "[]", "{}", "[1, [2, 3]]", "{ a = 1 }"]),
    st.lists(st.one_of(st.integers(-5, 50).map(str), hostile_text.map(json.dumps)), max_size=80).map(
        lambda items: "[" + ", ".join(items) + "]"
    ),
)


@st.composite
def lesson_files(draw) -> str:
    fields = {
        "title": '"Fuzz"',
        "minutes": "10",
        "goal": '"g"',
        "prediction": '"p"',
        "discuss": '"d"',
        "notice": '"n"',
    }
    for name in draw(st.lists(st.sampled_from([*fields, "order", "extra"]), max_size=3)):
        fields[name] = draw(toml_text)
    lines = [f"{name} = {value}" for name, value in fields.items()]
    if draw(st.booleans()):  # a question: kind, choices, unit, min, max with hostile values
        lines.append("[question]")
        lines.append(f"kind = {draw(st.one_of(st.sampled_from(['choice', 'number']).map(json.dumps), toml_text))}")
        for name in draw(
            st.lists(st.sampled_from(["choices", "unit", "min", "max", "answer"]), max_size=4, unique=True)
        ):
            lines.append(f"{name} = {draw(toml_text)}")
    for _ in range(draw(st.integers(0, 3))):
        lines.append("[[steps]]")
        lines.append(f"text = {draw(st.one_of(st.just(json.dumps('Do it.')), toml_text))}")
        lines.append(f"page = {draw(st.one_of(st.sampled_from(list(LINK_PAGES)).map(json.dumps), toml_text))}")
        names = draw(st.lists(st.sampled_from([*LAB_NAMES, "lock", "class", "predict", "digit", "zz"]), max_size=4))
        params = ", ".join(f'"{name}" = {draw(toml_text)}' for name in dict.fromkeys(names))
        lines.append(f"params = {{ {params} }}")
        if draw(st.booleans()):
            lines.append(f'vary = {{ "{draw(st.sampled_from(["T", "alpha", "predict", "x"]))}" = {draw(toml_text)} }}')
    return "+++\n" + "\n".join(lines) + "\n+++\nNotes."


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(lesson_files(), st.text(max_size=200), hostile_text.map(lambda text: f"+++\n{text}\n+++\n")))
def test_a_lesson_file_loads_or_says_what_to_fix(text):
    try:
        lesson = parse_lesson(text, "fuzz")
    except LessonError as error:
        assert str(error).startswith("lessons/fuzz.md:")
        return
    assert 5 <= lesson.minutes <= 20
    if lesson.question is not None:
        assert lesson.question == Question(**vars(lesson.question))  # it validates itself
    for step in lesson.steps:
        for _, params in step.links():
            assert check_link(step.page, params) == []


QUESTIONS = (
    Question("choice", ("T = 1", "T = 4")),
    Question("number", unit="errors", bounds=(-10000, 10000)),
    Question("number", unit="share", bounds=(0, 0.5)),
)


@settings(max_examples=300, deadline=2000)
@given(
    question=st.sampled_from(QUESTIONS),
    raw=st.one_of(
        hostile_text,
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=3),
        st.sampled_from(["T = 1", "T = 4"]),
    ),
)
def test_a_saved_answer_is_one_of_the_choices_or_within_bounds_whatever_is_sent(question, raw):
    try:
        answer = question.answer(raw)
    except ValueError as error:
        assert len(str(error)) < 300
        return
    if question.kind == "choice":
        assert answer in question.choices
    else:
        assert question.bounds[0] <= answer <= question.bounds[1] and not isinstance(answer, bool)
    json.dumps(answer, allow_nan=False)  # fits the database's JSON column


@settings(max_examples=60, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(hostile_text, min_size=1, max_size=4),
    name=st.sampled_from(["predict", "T", "class", "lock"]),
    digit=hostile_text,
)
def test_a_lessons_notebook_carries_any_label_as_data(values, name, digit):
    steps = (
        Step("Vary.", "lab", {"lock": "all"}, (name, tuple(values))),
        Step("Look.", "explorer", {"digit": digit}),
        Step("Replay.", "replays", {"bias": digit}),
    )
    notebook = lesson_notebook(Lesson("fuzz", "Fuzz", 10, "g", "p", "d", "n", steps), data_source=digit)
    labels = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not any(isinstance(node, ast.Call) and "system" in ast.unparse(node) for node in ast.walk(tree))
            labels += [ast.literal_eval(node.value) for node in tree.body if ast.unparse(node).startswith("label =")]
    assert labels == [f"{name} = {value}" for value in values]


def png_variants():
    """A real canvas's PNG cut, flipped, padded and relabelled; random bytes; PNG headers of every size."""
    canvas = np.zeros((*CANVAS, 4), np.uint8)
    canvas[..., 3], canvas[40:240, 130:150, :3] = 255, 255
    real = canvas_png(canvas)
    return st.one_of(
        st.binary(max_size=2000),
        st.tuples(st.integers(0, len(real)), st.integers(0, 255)).map(
            lambda pair: real[: pair[0]] + bytes([pair[1]]) + real[pair[0] + 1 :]
        ),
        st.integers(0, len(real)).map(lambda cut: real[:cut]),
        st.binary(max_size=64).map(lambda junk: real + junk),
        st.tuples(st.integers(1, 100_000), st.integers(1, 100_000)).map(
            lambda size: png(*size, bit_depth=1, colour_type=0) if size[0] * size[1] < 10**6 else png_header(*size)
        ),
    )


def png_header(width: int, height: int) -> bytes:
    """A PNG that says ``width`` x ``height`` and holds no pixels: a bomb's header, cheap to make."""
    import struct
    import zlib

    from tests.unit.png_bombs import chunk

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=png_variants())
def test_any_bytes_as_the_canvas_give_its_pixels_or_a_message(data):
    tracemalloc.start()
    try:
        pixels = canvas_from_png(data, CANVAS)
    except CanvasError as error:
        assert "draw again" in str(error)
        pixels = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20  # never more than a few canvases' worth, whatever the header says
    if pixels is not None:
        assert pixels.shape == (280, 280, 4) and pixels.dtype == np.uint8


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.one_of(
        st.tuples(st.integers(0, 300), st.integers(0, 300)),
        st.tuples(st.integers(0, 300), st.integers(0, 300), st.integers(0, 6)),
        st.tuples(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(1, 5)),
        st.just((1025, 1025)),
    ),
    dtype=st.sampled_from([np.uint8, np.uint8, np.float64, np.bool_, np.int64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_array_as_a_canvas_gives_a_digit_none_or_a_value_error(shape, dtype, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, size=shape).astype(dtype)
    try:
        digit = digit_from_canvas(pixels)
    except ValueError as error:
        assert "canvas" in str(error)
        assert (
            dtype != np.uint8
            or len(shape) not in (2, 3)
            or np.prod(shape[:2]) > MAX_CANVAS_PIXELS
            or 0 in shape
            or (len(shape) == 3 and shape[2] not in (3, 4))
        )
        return
    assert digit is None or (digit.shape == (IMAGE_SIZE, IMAGE_SIZE) and str(digit.dtype) == "torch.uint8")
