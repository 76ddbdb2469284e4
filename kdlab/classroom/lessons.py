"""Guided lessons: data files in ``lessons/`` that a teacher writes without Python.

A lesson is a Markdown file that opens with TOML front matter between ``+++`` lines::

    +++
    title = "Does the teacher help?"
    minutes = 12
    goal = "Predict, then see, whether a student learns more from a teacher than from the labels."
    prediction = "Will the distilled student make fewer test errors than the same student alone?"
    discuss = "Why would soft targets help a student that sees the very same images?"
    notice = "The two students start from the same weights and see the same batches."

    [question]                                    # how students answer the prediction (optional)
    kind = "number"                               # "number" (unit, min, max) or "choice" (choices)
    unit = "errors"
    min = -10000
    max = 10000

    [[steps]]
    text = "Predict, then press Train with the lesson's settings."
    page = "lab"                                  # lab, explorer, replays, board or lessons
    params = { lock = "all", predict = 1 }        # the link's URL parameters (kdlab.classroom.links)

    [[steps]]
    text = "Each table takes one temperature."
    page = "lab"
    params = { lock = "all" }
    vary = { T = [1, 4, 20] }                     # one link per value: hand them out around the room
    +++
    Notes for the teacher, in Markdown.

A choice question lists 2 to 8 short labels instead: ``kind = "choice"`` and ``choices = ["T = 1", "T = 4"]``.
Each step's link carries ``lesson=<slug>`` (added here, never typed in the file), so the page it opens asks
the question (``kdlab.ui.lesson_question``) and the class board shows the class's answers.

Loading checks everything a link carries with ``kdlab.classroom.links.check_link``, so a lesson with a
bad link fails its test (and shows the teacher what is wrong) instead of confusing a class.

A translation is a file per language, ``lessons/<lang>/<slug>.md`` beside the English ``lessons/<slug>.md``: the
same front matter with the prose translated (title, goal, prediction, discuss, notice, the steps' text, the
question's unit, the notes) and everything else exactly the English file's (``structure_differences``). A
choice question's ``choices`` are its answer keys, stored for the class and counted on the board in every
language, so a translation keeps them and shows them in its words with ``labels = [...]`` (one per choice).
``load_lessons`` reads the current language's file and falls back to the English one (``Lesson.language`` says
which); a translation whose structure differs is not used, and says why.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from kdlab.classroom.links import check_link, shown
from kdlab.classroom.pages import LINK_PAGES
from kdlab.classroom.urls import link_url
from kdlab.i18n import DEFAULT_LANGUAGE, PSEUDO, PSEUDO_CLOSE, PSEUDO_OPEN, _, current_language
from kdlab.settings import current_settings

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
FRONT_MATTER = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?)\r?\n\+\+\+[ \t]*(?:\r?\n|\Z)(.*)\Z", re.DOTALL)
MINUTES = (5, 30)  # lesson 6 takes 25: three losses to explain (TCKD, NCKD, 1 - p_target), a replay, a lab step
REQUIRED = ("title", "minutes", "goal", "prediction", "discuss", "notice", "steps")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")
MAX_VARIED = 60  # links one step hands out around the room: a class of 60 gets one each
QUESTION_KINDS = ("choice", "number")
CHOICES = (2, 8)  # a choice question offers 2 to 8 answers: a radio a student reads at a glance
MAX_LABEL = 60  # characters of one choice, or of a unit
MAX_BOUND = 1_000_000  # a number question's bounds stay within this either way
LESSON_PAGES = ("lab", "explorer", "replays", "board")  # the pages whose links carry lesson=<slug>


class LessonError(ValueError):
    """A lesson file that cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class Question:
    """How students answer a lesson's prediction: one of ``choices`` (kind "choice"), or a number in
    ``bounds`` (min, max) counted in ``unit`` (kind "number"; whole numbers when both bounds are whole)."""

    kind: str
    choices: tuple[str, ...] = ()
    unit: str = ""
    bounds: tuple[float, float] | None = None
    labels: tuple[str, ...] = ()  # the choices as a translation shows them, one per choice; () shows the choices

    def __post_init__(self):
        if self.kind not in QUESTION_KINDS:
            raise ValueError(f"kind = {shown(self.kind)}; a question's kind is choice or number")
        if self.kind == "choice":
            labels = self.choices
            if not isinstance(labels, tuple) or not CHOICES[0] <= len(labels) <= CHOICES[1]:
                raise ValueError(
                    f'a choice question lists {CHOICES[0]} to {CHOICES[1]} choices, like choices = ["a", "b"]'
                )
            if not all(isinstance(label, str) and 0 < len(label.strip()) <= MAX_LABEL for label in labels):
                raise ValueError(f"each choice is a text of 1 to {MAX_LABEL} characters in quotes")
            if len({label.strip() for label in labels}) != len(labels):
                raise ValueError("the choices must differ from each other")
            if self.bounds is not None or self.unit:
                raise ValueError("a choice question has choices only (no unit, min or max)")
            if self.labels != () and (
                not isinstance(self.labels, tuple)
                or len(self.labels) != len(labels)
                or not all(isinstance(label, str) and 0 < len(label.strip()) <= MAX_LABEL for label in self.labels)
            ):
                raise ValueError(f"labels shows each choice in a text of 1 to {MAX_LABEL} characters, one per choice")
            return
        if self.labels != ():
            raise ValueError("a number question has no labels (its unit is in the lesson's language)")
        if self.choices:
            raise ValueError("a number question has unit, min and max (no choices)")
        if not isinstance(self.unit, str) or not 0 < len(self.unit.strip()) <= MAX_LABEL:
            raise ValueError(
                f'a number question needs unit = "..." (1 to {MAX_LABEL} characters), like unit = "errors"'
            )
        low, high = self.bounds if isinstance(self.bounds, tuple) and len(self.bounds) == 2 else (None, None)
        if not all(_is_number(bound) and abs(bound) <= MAX_BOUND for bound in (low, high)) or not low < high:
            raise ValueError(
                f"a number question needs min and max, numbers within {MAX_BOUND:,} either way, min below max"
            )

    def label(self, choice: object) -> str:
        """How the page shows ``choice`` (an answer key): its label in the lesson's language, else the choice."""
        if self.labels and choice in self.choices:
            return self.labels[self.choices.index(choice)]
        return str(choice)

    @property
    def whole(self) -> bool:
        """A number question whose bounds are whole numbers takes whole numbers."""
        return self.kind == "number" and all(float(bound).is_integer() for bound in self.bounds)

    def answer(self, raw: object) -> str | int | float:
        """``raw`` as a valid answer: one of the choices, or a number within the bounds (a whole one for a
        whole question). Raises ``ValueError`` saying what an answer may be."""
        if self.kind == "choice":
            if isinstance(raw, str) and raw in self.choices:
                return raw
            raise ValueError(
                _("{answer} is not one of the answers ({choices})").format(
                    answer=shown(raw), choices=", ".join(map(self.label, self.choices))
                )
            )
        low, high = self.bounds
        if not _is_number(raw) or not low <= raw <= high:
            raise ValueError(
                _("{answer} is not a number from {low} to {high} {unit}").format(
                    answer=shown(raw), low=f"{low:g}", high=f"{high:g}", unit=self.unit
                )
            )
        if self.whole:
            if not float(raw).is_integer():
                raise ValueError(
                    _("{answer} is not a whole number of {unit}").format(answer=shown(raw), unit=self.unit)
                )
            return int(raw)
        return float(raw)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Step:
    """One step: what to do, and the link(s) that open the page with its settings."""

    text: str
    page: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    vary: tuple[str, tuple[str, ...]] | None = None  # (parameter, values): one link per value
    lesson: str = ""  # the slug of the lesson the step is in: its links carry lesson=<slug>

    def links(self, *, class_code: str | None = None) -> list[tuple[str, dict[str, str]]]:
        """(label, URL parameters) of each link; links to the lab, explorer, replays and board carry
        ``lesson=<slug>`` (the page asks the lesson's question; the board shows the answers) and ``class_code``
        when given."""
        if self.page is None:
            return []
        base = dict(self.params)
        if self.lesson and self.page in LESSON_PAGES:
            base["lesson"] = self.lesson
        if class_code and self.page in LESSON_PAGES:
            base["class"] = class_code
        if self.vary is None:
            return [("Open", base)]
        name, values = self.vary
        return [(f"{name} = {value}", base | {name: value}) for value in values]

    def urls(self, base_url: str, *, class_code: str | None = None) -> list[tuple[str, str]]:
        """(label, full link for a slide) of each link."""
        return [(label, link_url(base_url, self.page, params)) for label, params in self.links(class_code=class_code)]


@dataclass(frozen=True)
class Lesson:
    slug: str  # the file name without .md: ?lesson=<slug> on the lessons page
    title: str
    minutes: int
    goal: str
    prediction: str
    discuss: str
    notice: str
    steps: tuple[Step, ...]
    order: int = 100
    notes: str = ""  # the Markdown after the front matter
    question: Question | None = None  # how students answer ``prediction``; None: in words only
    language: str = DEFAULT_LANGUAGE  # the language of its text: a missing translation falls back to English


def _text(value: object) -> str:
    """A TOML value as the URL string it becomes (1.0 -> "1", True -> "1")."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _question(raw: object, where: str) -> Question | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise LessonError(f'{where}: write the question as a [question] table, with kind = "choice" or "number".')
    unknown = sorted(set(raw) - {"kind", "choices", "labels", "unit", "min", "max"})
    if unknown:
        raise LessonError(
            f"{where}: the question has {', '.join(shown(name) for name in unknown[:3])}; it takes kind, and choices "
            "and labels (a choice question) or unit, min and max (a number question)."
        )
    choices, bounds = raw.get("choices", ()), None
    if "min" in raw or "max" in raw:
        bounds = (raw.get("min"), raw.get("max"))
    try:
        return Question(
            raw.get("kind"),
            tuple(label.strip() if isinstance(label, str) else label for label in choices)
            if isinstance(choices, list)
            else choices,
            raw.get("unit", ""),
            bounds,
            tuple(label.strip() if isinstance(label, str) else label for label in labels)
            if isinstance(labels := raw.get("labels", ()), list)
            else labels,
        )
    except ValueError as error:
        raise LessonError(f"{where}: the question is not usable: {error}.") from error


def _step(number: int, raw: object, where: str, slug: str, check_links: bool = True) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise LessonError(f'{where}: step {number} needs a text = "..." line.')
    page = raw.get("page")
    if page is not None and (not isinstance(page, str) or page not in LINK_PAGES):  # page = [] is valid TOML
        raise LessonError(f"{where}: step {number} has page = {shown(page)}; use one of {', '.join(LINK_PAGES)}.")
    params = raw.get("params", {})
    vary = raw.get("vary")
    if not isinstance(params, dict) or (vary is not None and not isinstance(vary, dict)):
        raise LessonError(f"{where}: step {number}'s params and vary must be tables, like params = {{ T = 4 }}.")
    if "lesson" in params:
        raise LessonError(f"{where}: step {number} names lesson in its params; every link carries its lesson already.")
    if (params or vary) and page is None:
        raise LessonError(f'{where}: step {number} has params but no page = "..." to open with them.')
    params = {name: _text(value) for name, value in params.items()}
    varied = None
    if vary:
        if len(vary) != 1 or not isinstance(next(iter(vary.values())), list) or not next(iter(vary.values())):
            raise LessonError(
                f"{where}: step {number}'s vary names one parameter and a list, like vary = {{ T = [1, 4] }}."
            )
        name, values = next(iter(vary.items()))
        if len(values) > MAX_VARIED:
            raise LessonError(f"{where}: step {number}'s vary lists {len(values)} values; at most {MAX_VARIED}.")
        varied = (name, tuple(_text(value) for value in values))
    step = Step(raw["text"].strip(), page, params, varied, slug)
    problems = [problem for _, link in step.links() for problem in check_link(page, link)] if check_links else []
    if problems:
        raise LessonError(f"{where}: step {number}'s link has a problem: " + "; ".join(dict.fromkeys(problems)) + ".")
    return step


def parse_lesson(text: str, slug: str, where: str = "", *, check_links: bool = True) -> Lesson:
    """A lesson from the text of its file (see the module docstring).

    Raises:
        LessonError: no front matter, bad TOML, a missing field, a question that cannot be asked, or a step whose
            link is not valid (unless ``check_links`` is False: a translation's links, held to the English file's).
    """
    where = where or f"lessons/{slug}.md"
    match = FRONT_MATTER.match(text)
    if match is None:
        raise LessonError(f"{where}: the file must open with TOML front matter between two +++ lines.")
    try:
        meta = tomllib.loads(match.group(1))
    except ValueError as error:  # TOMLDecodeError, or a ValueError of its own: an integer of over 4,300 digits
        raise LessonError(f"{where}: the front matter is not valid TOML ({str(error)[:200]}).") from error
    missing = [name for name in REQUIRED if not meta.get(name)]
    if missing:
        raise LessonError(f"{where}: add {', '.join(missing)} to the front matter.")
    minutes = meta["minutes"]
    if not isinstance(minutes, int) or not MINUTES[0] <= minutes <= MINUTES[1]:
        raise LessonError(f"{where}: minutes = {shown(minutes)}; a lesson takes {MINUTES[0]} to {MINUTES[1]} minutes.")
    if not isinstance(meta["steps"], list):
        raise LessonError(f"{where}: write each step as a [[steps]] table.")
    question = _question(meta.get("question"), where)
    steps = tuple(_step(number, raw, where, slug, check_links) for number, raw in enumerate(meta["steps"], start=1))
    texts = {name: meta[name] for name in ("title", "goal", "prediction", "discuss", "notice")}
    if not all(isinstance(value, str) for value in texts.values()):
        raise LessonError(f"{where}: title, goal, prediction, discuss and notice are text in quotes.")
    order = meta.get("order", 100)
    return Lesson(
        slug,
        **{name: value.strip() for name, value in texts.items()},
        minutes=minutes,
        steps=steps,
        order=order if isinstance(order, int) else 100,
        notes=match.group(2).strip(),
        question=question,
    )


def lessons_dir() -> Path:
    """``KDLAB_LESSONS_DIR`` if set, else the repository's ``lessons/``."""
    return current_settings().lessons_dir or LESSONS_DIR


def lesson_files(folder: Path = LESSONS_DIR) -> list[Path]:
    """The lesson files in ``folder`` (``*.md`` whose names are lesson slugs), by name."""
    return sorted(path for path in Path(folder).glob("*.md") if SLUG.fullmatch(path.stem))


def load_lesson(path: Path, where: str = "", *, check_links: bool = True) -> Lesson:
    """The lesson in ``path``. Raises ``LessonError`` (see ``parse_lesson``)."""
    where = where or f"lessons/{Path(path).name}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(f"{where}: cannot be read ({type(error).__name__}).") from error
    return parse_lesson(text, Path(path).stem, where, check_links=check_links)


def _structure(lesson: Lesson) -> dict[str, object]:
    """What a lesson asks the lab and the class to do: the same in every language."""
    question = lesson.question
    return {
        "minutes": lesson.minutes,
        "order": lesson.order,
        "question": question
        and (question.kind, question.choices, question.bounds, len(question.labels or question.choices)),
        "steps": [(step.page, step.params, step.vary) for step in lesson.steps],
        "code in the notes": sorted(" ".join(code.split()) for code in re.findall(r"`[^`]+`", lesson.notes)),
    }


def structure_differences(english: Lesson, translation: Lesson) -> list[str]:
    """What ``translation`` changes of ``english`` beyond its prose (empty: the same lesson in other words)."""
    ours, theirs = _structure(english), _structure(translation)
    return [
        f"{name} {theirs[name]!r} differs from the English {ours[name]!r}"
        for name in ours
        if ours[name] != theirs[name]
    ]


def translated_lesson(english: Lesson, folder: Path, language: str) -> Lesson:
    """``english`` in ``language``: its file ``folder/<language>/<slug>.md`` if there is one (the same structure,
    else ``LessonError``), else ``english`` itself; in the pseudo-language, its prose wrapped in the markers.

    Raises:
        LessonError: the translation cannot be parsed, or its structure differs from the English file's.
    """
    if language == PSEUDO:
        return _pseudo_lesson(english)
    path = Path(folder) / language / f"{english.slug}.md"
    if language == DEFAULT_LANGUAGE or not path.is_file():
        return english
    where = f"lessons/{language}/{path.name}"
    # Its links are not checked again: structure_differences holds them to the English file's, already checked
    # (checking is most of a load: the nine English files take 31 ms, with their translations 88 ms checked, 54 ms not).
    translation = load_lesson(path, where, check_links=False)
    differences = structure_differences(english, translation)
    if differences:
        raise LessonError(
            f"{where}: a translation keeps the English lesson's structure: " + "; ".join(differences) + "."
        )
    return replace(translation, language=language)


def _pseudo_lesson(lesson: Lesson) -> Lesson:
    def wrap(text: str) -> str:
        return f"{PSEUDO_OPEN}{text}{PSEUDO_CLOSE}" if text else text

    question = lesson.question
    if question is not None:
        labels = tuple(map(wrap, map(question.label, question.choices))) if question.kind == "choice" else ()
        question = replace(question, labels=labels, unit=wrap(question.unit))
    return replace(
        lesson,
        **{name: wrap(getattr(lesson, name)) for name in ("title", "goal", "prediction", "discuss", "notice", "notes")},
        steps=tuple(replace(step, text=wrap(step.text)) for step in lesson.steps),
        question=question,
        language=PSEUDO,
    )


def load_lessons(folder: Path = LESSONS_DIR, language: str | None = None) -> tuple[list[Lesson], list[str]]:
    """Every lesson in ``folder``, in their ``order``, in ``language`` (the current language by default) where
    it has a translation (``translated_lesson``), else in English; and a message for each file that failed."""
    language = language or current_language()
    lessons, problems = [], []
    for path in lesson_files(folder):
        try:
            english = load_lesson(path)
        except LessonError as error:
            problems.append(str(error))
            continue
        try:
            lessons.append(translated_lesson(english, folder, language))
        except LessonError as error:
            lessons.append(english)
            problems.append(str(error))
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.slug)), problems
