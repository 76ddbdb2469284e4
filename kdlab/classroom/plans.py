"""Plans for a 50-minute class: sequences of lessons with their minutes, from ``lessons/plans.toml``.

A plan names its lessons by file name (slug) and adds an opening and a closing; the lessons' own
``minutes`` (set from a dry run, ``python -m kdlab bench classroom --lesson SLUG``) are not repeated here,
so a lesson's time is declared once. Loading checks that every lesson exists and that the plan fits
``CLASS_MINUTES``; the Lessons page and ``docs/classroom.md`` show the plans.

A translation is ``lessons/<lang>/plans.toml``, as the lessons' are: a copy of the file with its text translated
(title, audience, opening_text, closing_text) and the same plans, lessons and minutes, which loading checks. A
file per language rather than ``title_es`` keys: a teacher edits one language's plans without reading the
others', and the translated file has the English one's shape, so the same check serves lessons and plans.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from kdlab.classroom.lessons import Lesson, LessonError
from kdlab.i18n import DEFAULT_LANGUAGE, N_, PSEUDO, PSEUDO_CLOSE, PSEUDO_OPEN, current_language

PLANS_FILE = "plans.toml"  # beside the lessons: KDLAB_LESSONS_DIR may hold a school's own
CLASS_MINUTES = 50
OPENING, CLOSING = N_("Opening"), N_("Closing")  # the parts around the lessons: translated where shown


@dataclass(frozen=True)
class PlanItem:
    """One part of a plan: what happens, from which minute, for how long (``lesson`` None: the opening or the
    closing)."""

    start: int
    minutes: int
    title: str  # the lesson's title, or OPENING or CLOSING (English: translated where shown)
    text: str
    lesson: Lesson | None = None


@dataclass(frozen=True)
class Plan:
    title: str
    audience: str
    items: tuple[PlanItem, ...]

    @property
    def minutes(self) -> int:
        return sum(item.minutes for item in self.items)


def _minutes(value: object, where: str, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 15:
        raise LessonError(f"{where}: {name} = {value!r}; give whole minutes from 0 to 15.")
    return value


def parse_plans(text: str, lessons: list[Lesson], where: str = f"lessons/{PLANS_FILE}") -> list[Plan]:
    """The plans in ``text`` (see ``lessons/plans.toml``), their lessons looked up in ``lessons``.

    Raises:
        LessonError: bad TOML, a missing field, an unknown lesson, or a plan longer than ``CLASS_MINUTES``.
    """
    try:
        raw_plans = tomllib.loads(text).get("plans", [])
    except ValueError as error:
        raise LessonError(f"{where}: not valid TOML ({str(error)[:200]}).") from error
    by_slug = {lesson.slug: lesson for lesson in lessons}
    plans = []
    for number, raw in enumerate(raw_plans if isinstance(raw_plans, list) else [], start=1):
        here = f"{where}, plan {number}"
        texts = {name: raw.get(name) for name in ("title", "audience", "opening_text", "closing_text")}
        if not all(isinstance(value, str) and value.strip() for value in texts.values()):
            raise LessonError(f"{here}: give title, audience, opening_text and closing_text as text in quotes.")
        slugs = raw.get("lessons")
        if not isinstance(slugs, list) or not slugs or not all(isinstance(slug, str) for slug in slugs):
            raise LessonError(f'{here}: lessons = ["1-temperature", ...] names its lessons by file name.')
        unknown = [slug for slug in slugs if slug not in by_slug]
        if unknown:
            raise LessonError(f"{here}: no lesson {', '.join(unknown)}; the lessons are {', '.join(by_slug)}.")
        parts = [(_minutes(raw.get("opening"), here, "opening"), OPENING, texts["opening_text"], None)]
        parts += [(by_slug[slug].minutes, by_slug[slug].title, by_slug[slug].goal, by_slug[slug]) for slug in slugs]
        parts.append((_minutes(raw.get("closing"), here, "closing"), CLOSING, texts["closing_text"], None))
        items, start = [], 0
        for minutes, title, text_, lesson in parts:
            items.append(PlanItem(start, minutes, title, text_.strip(), lesson))
            start += minutes
        plan = Plan(texts["title"].strip(), texts["audience"].strip(), tuple(items))
        if plan.minutes > CLASS_MINUTES:
            raise LessonError(
                f"{here} ({plan.title}) takes {plan.minutes} minutes, over a {CLASS_MINUTES}-minute class: drop a "
                "lesson or shorten the opening or the closing."
            )
        plans.append(plan)
    return plans


def _structure(plans: list[Plan]) -> list[list[tuple[int, str | None]]]:
    return [[(item.minutes, item.lesson and item.lesson.slug) for item in plan.items] for plan in plans]


def _pseudo(plans: list[Plan]) -> list[Plan]:
    def wrap(text: str) -> str:
        return f"{PSEUDO_OPEN}{text}{PSEUDO_CLOSE}"

    return [
        Plan(
            wrap(plan.title),
            wrap(plan.audience),
            tuple(replace(item, text=item.text if item.lesson else wrap(item.text)) for item in plan.items),
        )
        for plan in plans
    ]


def _read(path: Path, lessons: list[Lesson], where: str) -> list[Plan]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(f"{where}: cannot be read.") from error
    return parse_plans(text, lessons, where)


def load_plans(folder: Path, lessons: list[Lesson], language: str | None = None) -> tuple[list[Plan], list[str]]:
    """The plans of ``folder``'s ``plans.toml`` (none without one) in ``language`` (the current language by
    default: ``<language>/plans.toml`` where there is one with the same plans, lessons and minutes, else the
    English), and a message for each file that cannot be used."""
    language = language or current_language()
    path = Path(folder) / PLANS_FILE
    if not path.is_file():
        return [], []
    try:
        plans = _read(path, lessons, f"lessons/{PLANS_FILE}")
    except LessonError as error:
        return [], [str(error)]
    if language == PSEUDO:
        return _pseudo(plans), []
    translated = Path(folder) / language / PLANS_FILE
    if language == DEFAULT_LANGUAGE or not translated.is_file():
        return plans, []
    where = f"lessons/{language}/{PLANS_FILE}"
    try:
        translation = _read(translated, lessons, where)
    except LessonError as error:
        return plans, [str(error)]
    if _structure(translation) != _structure(plans):
        return plans, [f"{where}: a translation keeps the English file's plans, lessons and minutes, in order."]
    return translation, []
