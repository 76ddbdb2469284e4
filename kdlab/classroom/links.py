"""Assignment links: the settings a page reads from its URL, validated, and the links that carry them.

A teacher's link opens a page with the lesson's settings and can lock them, the way
TensorFlow Playground keeps its whole state in the URL::

    /distillation_lab?T=8&alpha=0.5&lock=T,alpha&class=PHYS7&predict=1&live=1

Every value is a string from a stranger, so every one is checked here against what the page's
controls can show: a value that is not a number, out of range or unknown is dropped with one
sentence that names the parameter, says what is allowed and what is used instead ("T=abc is not
a number; using T = 4"). The work is bounded by the link's size, never by what it asks for: a value's
length is checked before it is parsed (``MAX_VALUE_LENGTH``), a link's problems are de-duplicated, and
a page shows at most ``MAX_MESSAGES`` of them (a 2 MB ``lock=`` made a million warnings). The messages are in the
current language; the parameters, values and options in them are written as a link writes them. The lab's settings, their checks and defaults are the rows of
``kdlab.classroom.lab_settings``. This module is plain Python (no Streamlit): the pages, the lesson
loader and its test all use the same checks.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kdlab.classroom.board_groups import GROUP_NAMES, MAX_GROUPING
from kdlab.classroom.lab_settings import LAB_NAMES, LAB_SETTINGS, lab_defaults
from kdlab.classroom.pages import LINK_PAGES
from kdlab.classroom.values import in_range, number_text, one_of, parse_float, parse_int, parse_switch, value_text
from kdlab.experiments.replays import REPLAYS
from kdlab.i18n import LANGUAGES, N_, _, is_language, ngettext, number
from kdlab.ml.methods.registry import METHODS

EXPLORER_TEMPERATURES = (0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0)
BIAS_RANGE = (-15.0, 15.0)  # the replay's bias sliders span at least this
MAX_SHOWN = 30  # characters of a bad value echoed back in a message
# Characters of one URL value: the longest a page reads is a teacher name (kdlab.teachers.ensembles.MAX_NAME_LENGTH,
# 200); ``lock`` naming every lab setting is under 100. A longer value is refused before it is parsed.
MAX_VALUE_LENGTH = 200
MAX_MESSAGES = 3  # a link's problems shown at most; one more line counts the rest

EXPLORER_PARAMETERS = ("digit", "T", "standardise")
REPLAY_PARAMETERS = ("replay", "bias")
ADVANCED = "advanced"  # the lab's and the explorer's: advanced=1 opens their Advanced sections
# The lab's: what is locked, the class code, a prediction first, the Advanced section open, a result from the
# cache shown training again
LINK_EXTRAS = ("lock", "class", "predict", ADVANCED, "live")
CLASS_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
# A lesson's step links carry lesson=<slug> (kdlab.classroom.lessons.Step.links), and the explorer's and the
# replays' its class code too: the page asks the lesson's question and files the answer for that class.
LESSON_EXTRAS = ("lesson", "class")
BOARD_PARAMETERS = ("class", "vary")
# Every link may carry the language its page opens in (``kdlab.ui.language`` reads it; the session keeps it).
LANGUAGE = "lang"
LESSON_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")  # a lesson file's name (kdlab.classroom.lessons.SLUG)
_MARKDOWN_PUNCTUATION = frozenset(string.punctuation)  # CommonMark: each of these may be backslash-escaped


def shown(raw: object) -> str:
    """A URL value fit to echo in a message: printable, short, and in a code span (no Markdown links)."""
    text = "".join(character for character in str(raw) if character.isprintable() and character != "`")
    return f"`{text[:MAX_SHOWN]}{'...' if len(text) > MAX_SHOWN else ''}`"


def escape_markdown(text: object) -> str:
    """``text`` (a message that may quote what a user typed or linked) with every ASCII punctuation mark
    backslash-escaped, so Markdown shows it as written: no link, image, emphasis or autolinked address."""
    return "".join("\\" + character if character in _MARKDOWN_PUNCTUATION else character for character in str(text))


@dataclass(frozen=True)
class ParsedLink:
    """What a link asks of a page: control values, locked names, and one message per ignored value."""

    values: dict[str, object] = field(default_factory=dict)  # URL name -> the control's value
    locked: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()
    class_code: str | None = None
    predict: bool = False
    advanced: bool = False  # advanced=1: the page's Advanced sections start open
    live: bool = False  # a result from the cache redraws its curves as they were recorded ("live again")
    sets_controls: bool = False  # the link names settings or locks: it sets every control

    def is_locked(self, name: str) -> bool:
        return name in self.locked


def url_value(params: Mapping[str, object], name: str) -> str | None:
    """The URL parameter ``name`` as a string (the last of a repeated one, as in ``st.query_params``), cut to
    ``MAX_VALUE_LENGTH`` + 1 characters: a longer value stays too long for ``too_long`` to refuse, and nothing
    longer is kept in a session or parsed."""
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    if value is None:
        return None
    return value[: MAX_VALUE_LENGTH + 1] if isinstance(value, str) else str(value)[: MAX_VALUE_LENGTH + 1]


def too_long(name: str, raw: str | None) -> str:
    """The message for a value over ``MAX_VALUE_LENGTH`` characters ("" for any other)."""
    if raw is None or len(raw) <= MAX_VALUE_LENGTH:
        return ""
    return _("{name}={value} is longer than {limit} characters, so it was not read").format(
        name=name, value=shown(raw), limit=MAX_VALUE_LENGTH
    )


def link_values(params: Mapping[str, object], names: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """The URL values of ``names`` that are short enough to read (``url_value``), and a message for each one
    that is not."""
    values, problems = {}, []
    for name in names:
        raw = url_value(params, name)
        if too_long(name, raw):
            problems.append(too_long(name, raw))
        elif raw is not None:
            values[name] = raw
    return values, problems


def summarised(problems: Sequence[str]) -> tuple[str, ...]:
    """Each distinct problem once (empty ones dropped), in order, at most ``MAX_MESSAGES`` of them and a line that
    counts the rest."""
    distinct = list(dict.fromkeys(problem for problem in problems if problem))
    if len(distinct) <= MAX_MESSAGES:
        return tuple(distinct)
    rest = len(distinct) - MAX_MESSAGES
    return (
        *distinct[:MAX_MESSAGES],
        ngettext(
            "{count} more of this link's values was not used either",
            "{count} more of this link's values were not used either",
            rest,
        ).format(count=rest),
    )


def parse_class_code(raw: str | None) -> tuple[str | None, str]:
    """A class code, upper-cased: 2 to 16 letters, digits or dashes; or (None, why not)."""
    if raw is None or not raw.strip():
        return None, ""
    code = raw.strip().upper()
    if not CLASS_CODE.fullmatch(code):
        return None, _("class={value} is not a class code (2 to 16 letters, digits or dashes, such as PHYS-7)").format(
            value=shown(raw)
        )
    return code, ""


def parse_lesson_slug(raw: str | None) -> tuple[str | None, str]:
    """``lesson=``: a lesson's slug in form (whether such a lesson exists is the page's to check), or
    (None, why not)."""
    if raw is None or not raw.strip():
        return None, ""
    slug = raw.strip()
    if not LESSON_SLUG.fullmatch(slug):
        return (
            None,
            _("lesson={value} is not a lesson's name (small letters, digits and dashes); no question is asked").format(
                value=shown(raw)
            ),
        )
    return slug, ""


def parse_lock(raw: str | None, names: Sequence[str]) -> tuple[frozenset[str], list[str]]:
    """``lock=T,alpha`` or ``lock=all``: the locked names, and one message naming the unknown ones (each once,
    the first few). A value over ``MAX_VALUE_LENGTH`` characters locks nothing and says so."""
    if raw is None or not raw.strip():
        return frozenset(), []
    if too_long("lock", raw):
        return frozenset(), [too_long("lock", raw)]
    wanted = [name.strip() for name in raw.split(",") if name.strip()]
    if any(name.lower() == "all" for name in wanted):
        return frozenset(names), []
    unknown = list(dict.fromkeys(name for name in wanted if name not in names))
    if not unknown:
        return frozenset(wanted), []
    listed = ", ".join(shown(name) for name in unknown[:MAX_MESSAGES])
    if len(unknown) > MAX_MESSAGES:
        problem = _(
            "lock={names} and {more} more are not settings of this page ({settings}, or all); nothing else is "
            "locked because of them"
        )
    else:
        problem = ngettext(
            "lock={names} is not a setting of this page ({settings}, or all); nothing else is locked because of it",
            "lock={names} are not settings of this page ({settings}, or all); nothing else is locked because of them",
            len(unknown),
        )
    problem = problem.format(names=listed, more=len(unknown) - MAX_MESSAGES, settings=", ".join(names))
    return frozenset(name for name in wanted if name in names), [problem]


FLAG_WORDS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


FLAG_OFF = {  # what off means: English messages, translated where shown
    "predict": N_("no prediction is asked for"),
    ADVANCED: N_("the Advanced sections start closed"),
    "live": N_("a result from the cache is shown at once"),
}


def parse_flag(raw: str | None, name: str = "predict") -> tuple[bool, str]:
    """``predict=1``, ``advanced=1`` or ``live=1`` (a key of ``FLAG_OFF``): on for 1, true, yes or on; off for 0,
    false, no, off or nothing; anything else is off, with a message that says what off means."""
    if raw is None or not raw.strip():
        return False, ""
    word = raw.strip().lower()
    if word in FLAG_WORDS:
        return FLAG_WORDS[word], ""
    return False, _("{name}={value} is not 1 or 0; {meaning}").format(
        name=name, value=shown(raw), meaning=_(FLAG_OFF[name])
    )


def parse_lab_link(params: Mapping[str, object], train_count: int | None) -> ParsedLink:
    """The lab's settings from URL parameters (see the module docstring).

    A link that names any setting or ``lock`` sets every control: the link's value, or the
    default (``DistillConfig()``) for a value it leaves out or that is not allowed. A locked
    setting the link leaves out is locked at the default.
    """
    defaults = lab_defaults(train_count)
    raws, problems = link_values(params, (*LAB_NAMES, *LINK_EXTRAS))
    values = {}
    for setting in LAB_SETTINGS:
        name, raw = setting.url, raws.get(setting.url)
        if raw is None:
            continue
        value, why = setting.check(setting, raw, train_count)
        if value is None:
            problems.append(
                _("{name}={value} {why}; using {default}").format(
                    name=name, value=shown(raw), why=why, default=value_text(name, defaults[name])
                )
            )
            continue
        if name == "train_size" and train_count is not None and parse_int(raw) not in (None, value):
            problems.append(
                _("train_size={value}: this server's data has only {count} training images; using all {count}").format(
                    value=shown(raw), count=number(train_count)
                )
            )
        values[name] = value
    locked, lock_problems = parse_lock(raws.get("lock"), LAB_NAMES)
    class_code, class_problem = parse_class_code(raws.get("class"))
    predict, predict_problem = parse_flag(raws.get("predict"))
    advanced, advanced_problem = parse_flag(raws.get(ADVANCED), ADVANCED)
    live, live_problem = parse_flag(raws.get("live"), "live")
    sets_controls = bool(values) or bool(locked) or any(url_value(params, name) is not None for name in LAB_NAMES)
    if sets_controls:
        values = defaults | values
        problems.append(unfit_method(values, defaults))
    return ParsedLink(
        values,
        locked,
        summarised(problems + lock_problems + [class_problem, predict_problem, advanced_problem, live_problem]),
        class_code,
        predict,
        advanced,
        live,
        sets_controls,
    )


def unfit_method(values: dict[str, object], defaults: Mapping[str, object]) -> str:
    """The message for a link's method that does not fit its teacher and student (attention with an MLP), which
    ``values`` then trade for the lab's default method (``Method.unfit``); "" when it fits."""
    method = METHODS[str(values["soft"])]
    why = method.unfit(str(values["teacher"]), str(values["student"]))
    if not why:
        return ""
    values["soft"] = defaults["soft"]
    return _("soft={value} does not fit this pair: {why}; using {default}").format(
        value=shown(method.name), why=why.rstrip("."), default=value_text("soft", values["soft"])
    )


def parse_explorer_link(params: Mapping[str, object], default_temperature: float = 4.0) -> ParsedLink:
    """The explorer's ``digit`` (0 to 9, shown by class), ``T``, ``standardise`` (on/off: the standardisation
    toggle), ``lock`` over those three, and ``advanced``."""
    raws, problems = link_values(params, (*EXPLORER_PARAMETERS, "lock", ADVANCED))
    values = {}
    raw = raws.get("digit")
    if raw is not None:
        digit, why = in_range(raw, 0, 9)
        if digit is None:
            problems.append(_("digit={value} {why}; pick a digit from 0 to 9 below").format(value=shown(raw), why=why))
        else:
            values["digit"] = digit
    raw = raws.get("T")
    if raw is not None:
        temperature, why = one_of(raw, EXPLORER_TEMPERATURES, N_("explorer's temperatures"))
        if temperature is None:
            problems.append(
                _("T={value} {why}; using T = {default}").format(
                    value=shown(raw), why=why, default=number_text(default_temperature)
                )
            )
        else:
            values["T"] = temperature
    raw = raws.get("standardise")
    if raw is not None:
        standardise = parse_switch(raw)
        if standardise is None:
            problems.append(
                _("standardise={value} is not 1 or 0; the logits are shown as they are").format(value=shown(raw))
            )
        else:
            values["standardise"] = standardise
    locked, lock_problems = parse_lock(raws.get("lock"), list(EXPLORER_PARAMETERS))
    locked = frozenset(name for name in locked if name in values)  # a lock without a value locks nothing
    advanced, advanced_problem = parse_flag(raws.get(ADVANCED), ADVANCED)
    return ParsedLink(
        values,
        locked,
        summarised([*problems, *lock_problems, advanced_problem]),
        advanced=advanced,
        sets_controls=bool(values),
    )


def parse_replay_link(params: Mapping[str, object]) -> ParsedLink:
    """The replay page's ``replay`` (which replay's tab) and ``bias`` (where its bias sliders start)."""
    raws, problems = link_values(params, REPLAY_PARAMETERS)
    values = {}
    raw = raws.get("replay")
    if raw is not None:
        if raw.strip() in REPLAYS:
            values["replay"] = raw.strip()
        else:
            problems.append(
                _("replay={value} is not a replay ({replays}); showing the first").format(
                    value=shown(raw), replays=", ".join(REPLAYS)
                )
            )
    raw = raws.get("bias")
    if raw is not None:
        bias = parse_float(raw)
        if bias is None or not BIAS_RANGE[0] <= bias <= BIAS_RANGE[1]:
            why = (
                _("is not a number")
                if bias is None
                else _("is outside {low} to {high}").format(
                    low=number_text(BIAS_RANGE[0]), high=number_text(BIAS_RANGE[1])
                )
            )
            problems.append(
                _("bias={value} {why}; the sliders start at the bias chosen on held-out images").format(
                    value=shown(raw), why=why
                )
            )
        else:
            values["bias"] = round(bias, 1)
    return ParsedLink(values, problems=summarised(problems), sets_controls=bool(values))


def parse_vary(raw: str | None) -> tuple[tuple[str, ...] | None, str]:
    """``vary=student`` or ``vary=T,alpha``: the settings the board groups by (URL names of
    ``kdlab.classroom.board_groups.GROUP_NAMES``, at most ``MAX_GROUPING``), and one message for the names it
    leaves out (unknown ones, repeats aside, and those past the limit). None: the link sets no grouping."""
    if raw is None or not raw.strip():
        return None, ""
    wanted = list(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    known = [name for name in wanted if name in GROUP_NAMES]
    unknown = [name for name in wanted if name not in GROUP_NAMES]
    problems = []
    if unknown:
        listed = ", ".join(shown(name) for name in unknown[:MAX_MESSAGES])
        if len(unknown) > MAX_MESSAGES:
            problem = _("vary={names} and {more} more are not settings the board can group by ({settings})")
        else:
            problem = ngettext(
                "vary={names} is not a setting the board can group by ({settings})",
                "vary={names} are not settings the board can group by ({settings})",
                len(unknown),
            )
        problems.append(problem.format(names=listed, more=len(unknown) - MAX_MESSAGES, settings=", ".join(GROUP_NAMES)))
    if len(known) > MAX_GROUPING:
        problems.append(
            ngettext(
                "the board groups by at most {count} setting, not {names}",
                "the board groups by at most {count} settings, not {names}",
                MAX_GROUPING,
            ).format(count=MAX_GROUPING, names=", ".join(known[MAX_GROUPING:]))
        )
    if not known:
        return None, "; ".join([*problems, _("grouping by what the class's runs vary")])
    if not problems:
        return tuple(known[:MAX_GROUPING]), ""
    grouping = _("grouping by {names}").format(names=", ".join(known[:MAX_GROUPING]))
    return tuple(known[:MAX_GROUPING]), "; ".join([*problems, grouping])


def parse_board_link(params: Mapping[str, object]) -> ParsedLink:
    """The class board's ``class`` (a class code) and ``vary`` (what it groups the runs by, in ``values``), or a
    message for each that was not used."""
    raws, problems = link_values(params, BOARD_PARAMETERS)
    class_code, problem = parse_class_code(raws.get("class"))
    vary, vary_problem = parse_vary(raws.get("vary"))
    values = {} if vary is None else {"vary": vary}
    return ParsedLink(values, problems=summarised([*problems, problem, vary_problem]), class_code=class_code)


PARSERS: dict[str, Callable[[Mapping[str, object]], ParsedLink]] = {
    "lab": lambda params: parse_lab_link(params, None),
    "explorer": parse_explorer_link,
    "replays": parse_replay_link,
    "board": parse_board_link,
    "lessons": lambda params: ParsedLink(problems=summarised(link_values(params, ("lesson",))[1])),
}
KNOWN_PARAMETERS = {
    "lab": (*LAB_NAMES, *LINK_EXTRAS, "lesson", LANGUAGE),
    "explorer": (*EXPLORER_PARAMETERS, "lock", ADVANCED, *LESSON_EXTRAS, LANGUAGE),
    "replays": (*REPLAY_PARAMETERS, *LESSON_EXTRAS, LANGUAGE),
    "board": (*BOARD_PARAMETERS, "lesson", LANGUAGE),
    "lessons": ("lesson", LANGUAGE),
}


def parse_language(raw: str | None) -> tuple[str | None, str]:
    """A link's ``lang=``: the language (None when absent or unknown) and the problem with it ("" if none)."""
    if raw is None or is_language(raw):
        return raw, ""
    return None, _("lang={value} is not a language of kdlab ({languages}); the page keeps its language").format(
        value=shown(raw), languages=", ".join(LANGUAGES)
    )


def check_link(page: str, params: Mapping[str, object]) -> list[str]:
    """Every problem of a link to ``page`` ("lab", "explorer", ...): unknown pages and parameter
    names too (a lesson file is checked with this), each once, at most ``MAX_MESSAGES`` and a count."""
    if page not in LINK_PAGES:
        return [_("page {page} is not one of {pages}").format(page=shown(page), pages=", ".join(LINK_PAGES))]
    unknown = [
        _("{name} is not a parameter of the {page} page ({names})").format(
            name=shown(name), page=page, names=", ".join(KNOWN_PARAMETERS[page])
        )
        for name in params
        if name not in KNOWN_PARAMETERS[page]
    ]
    extras, problems = link_values(params, (*(LESSON_EXTRAS if page != "lessons" else ()), LANGUAGE))
    problems += [parse_lesson_slug(extras.get("lesson"))[1], parse_language(extras.get(LANGUAGE))[1]]
    if page in ("explorer", "replays"):  # the lab's and the board's parsers check their class code
        problems.append(parse_class_code(extras.get("class"))[1])
    return list(summarised(unknown + list(PARSERS[page](params).problems) + problems))
