"""The class board on a page: every run under one class code, redrawn every few seconds.

The board reads the class's runs with one database query (``kdlab.classroom.classes.class_runs``)
inside ``st.fragment(run_every=...)``, so only the board reruns, not the page; the runs and
their figures are shared by every viewer of the class for ``SHARED_SECONDS`` (a class with the
board open on thirty screens queries and draws it about twice per refresh, not thirty times).
Every chart has a text alternative (its ``alt`` and a table in an
expander), the large-text mode enlarges the text and the figures for a projector, and
students appear under their random nicknames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

from kdlab.classroom.board import (
    ClassRun,
    check_prediction,
    finished,
    headline,
    heat_cells,
    mean_by_temperature,
    prediction_summary,
    signed,
    table_rows,
    trainings,
)
from kdlab.classroom.board_groups import (
    GROUP_NAMES,
    MAX_GROUPING,
    Group,
    class_groups,
    group_setting,
    value_text,
    varied_settings,
)
from kdlab.classroom.classes import class_runs, find_class, set_class
from kdlab.classroom.lessons import Lesson
from kdlab.classroom.links import escape_markdown, parse_board_link
from kdlab.classroom.predictions import ClassPrediction, answer_counts, class_predictions, lesson_answers
from kdlab.db.database import StorageError, open_database
from kdlab.i18n import N_, _, current_language, ngettext, number, percent
from kdlab.plots import board as board_plots
from kdlab.ui.instructor_key import instructor_key_set
from kdlab.ui.language import choose_language
from kdlab.ui.lesson_question import lessons_by_slug
from kdlab.ui.session import CLASS_KEY

REFRESH_SECONDS = 5.0
SHARED_SECONDS = 2.0  # viewers refreshing within this share one query and one set of figures
BOARD_CLASS_KEY = "board.class"  # the class this session's board shows
GROUP_KEY = "board.group"  # the "Group by" control
# Set once the viewer or a link chose the grouping: from then on it no longer follows what the class varies.
GROUP_CHOSEN_KEY = "board.group.chosen"
LINK_VARY_KEY = "board.group.link"  # the link's vary= last applied (a rerun of the page does not apply it again)
GROUPS_NOTE = N_(
    "Each training once (copies of one training count once); the bars: the 95% interval over the seeds of the "
    "group's runs with the same other settings, once there are two seeds. Share of the gap closed: errors removed "
    "over (the student alone's errors - the teacher's); 100% means the distilled student does as well as its "
    "teacher. Blank where the teacher is no better than the student alone."
)
SEEDS_NOTE = N_(
    "n: the trainings in a cell, each once (a run copied from another student's, or joined live, is the same "
    "training). By seed: in each cell, the runs with the same settings (teacher, student, epochs, ...) but different "
    "seeds, one result per seed, with the 95% interval of the mean errors removed once there are two seeds "
    "or more. An interval above 0: the gain is bigger than the seed-to-seed spread."
)
# The tables' column headers as shown (column_config labels): the data keeps its English keys, the CSV's fields.
GROUPS_COLUMNS = (N_("trainings"), N_("mean errors removed"), N_("by seed"), N_("share of the gap closed"))
PREDICTIONS_COLUMNS = {
    "student": N_("nickname"),
    "predicted": N_("predicted"),
    "errors removed": N_("errors removed"),
    "direction": N_("direction"),
}
TABLE_HEADERS = {
    "student": N_("nickname"),
    "time": N_("time"),
    "teacher": N_("teacher"),
    "student_model": N_("student model"),
    "student_parameters": N_("student parameters"),
    "method": N_("method"),
    "epochs": N_("epochs"),
    "train_images": N_("training images"),
    "seed": N_("seed"),
    "alone_errors": N_("errors alone"),
    "distilled_errors": N_("errors distilled"),
    "errors_removed": N_("errors removed"),
    "gap_closed": N_("share of the gap closed"),
    "prediction": N_("prediction"),
    "status": N_("status"),
    "source": N_("source"),
}
LARGE_CSS = """<style>
.st-key-board-view p, .st-key-board-view li, .st-key-board-view td, .st-key-board-view th { font-size: 1.6rem !important; }
.st-key-board-view h2 { font-size: 3rem !important; }
</style>"""


def board_class_code() -> str | None:
    """The class to show: ``?class=`` (checked, kept in the session: a navigation link drops it),
    the session's earlier one, or the class the student's lab runs count for. A link's ``?vary=`` sets the
    "Group by" control."""
    if st.query_params.get("class") is not None or st.query_params.get("vary") is not None:
        link = parse_board_link(st.query_params.to_dict())
        for problem in link.problems:
            st.warning(_("**Part of the link was not used.** {problem}.").format(problem=problem))
        if link.class_code:
            st.session_state[BOARD_CLASS_KEY] = link.class_code
        vary = link.values.get("vary")
        if vary is not None and st.session_state.get(LINK_VARY_KEY) != vary:
            st.session_state[LINK_VARY_KEY] = vary
            st.session_state[GROUP_KEY] = list(vary)
            st.session_state[GROUP_CHOSEN_KEY] = True
    code = st.session_state.get(BOARD_CLASS_KEY) or st.session_state.get(CLASS_KEY)
    if code and st.query_params.get("class") != code:
        st.query_params["class"] = code
    return code


@dataclass(frozen=True)
class Snapshot:
    """A class's runs and the board's figures at one moment, shared read-only by every viewer."""

    runs: list[ClassRun]
    scatter: go.Figure | None  # None before a finished run, and while the class varies neither T nor alpha
    heatmap: go.Figure | None
    predictions: go.Figure | None
    lesson_predictions: list[ClassPrediction]  # the answers to the lessons' questions (kdlab.classroom.predictions)


@st.cache_resource(ttl=SHARED_SECONDS, max_entries=64, show_spinner=False)
def board_snapshot(code: str, font_size: int, language: str | None = None) -> Snapshot:
    """The runs of class ``code`` and their figures in ``language`` (the current one: the figures' words are in
    it, so viewers in two languages never share them; None for a caller that reads the runs only, the compression
    card; raises ``StorageError``). Cached for a moment."""
    database = open_database()
    runs, made = class_runs(database, code), class_predictions(database, code)
    if not finished(runs):
        return Snapshot(runs, None, None, None, made)
    numbered = any(
        (check := check_prediction(run.prediction, run.errors_removed)) and check.predicted_by is not None
        for run in runs
    )
    varies = varies_temperature_alpha(runs)  # the scatter and the heat map are drawn only then: built only then
    return Snapshot(
        runs,
        board_plots.improvement_scatter(runs, font_size=font_size) if varies else None,
        board_plots.improvement_heatmap(heat_cells(runs), font_size=font_size) if varies else None,
        board_plots.prediction_figure(runs, font_size=font_size) if numbered else None,
        made,
    )


def varies_temperature_alpha(runs: list[ClassRun]) -> bool:
    """Whether the class's trainings differ in T or alpha (the scatter over T and the heat map then show)."""
    return len({(run.temperature, run.alpha) for run, _ in trainings(runs)}) > 1


def _chart(figure, key: str, alt: str) -> None:
    st.plotly_chart(figure, key=key, alt=alt)


def _trainings_text(count: int) -> str:
    return ngettext("{count} training", "{count} trainings", count).format(count=number(count))


def _predictions_text(count: int) -> str:
    return ngettext("{count} prediction", "{count} predictions", count).format(count=number(count))


def _scatter_text(runs: list[ClassRun]) -> str:
    curve = mean_by_temperature(runs)
    if not curve:
        return _("No finished run yet.")
    # Translators: one temperature's part of a list, "T = 4: +12.5 (3 trainings)".
    parts = "; ".join(
        _("T = {temperature}: {mean} ({trainings})").format(
            temperature=number(temperature), mean=signed(mean), trainings=_trainings_text(count)
        )
        for temperature, mean, count in curve
    )
    return _("Class mean of errors removed by distilling, by temperature: {parts}.").format(parts=parts)


def _prediction_text(runs: list[ClassRun]) -> str:
    summary = prediction_summary(runs)
    if not summary["made"]:
        return _("Nobody has made a prediction yet.")
    # Translators: {predictions} is "30 predictions".
    text = _(
        "{predictions}: {fewer} said the distilled student would make fewer errors, {not_fewer} said as many or more."
    ).format(
        predictions=_predictions_text(summary["made"]),
        fewer=number(summary["said_fewer"]),
        not_fewer=number(summary["made"] - summary["said_fewer"]),
    )
    if summary["checked"]:
        text += " " + _("{right} of the {checked} with a result got the direction right.").format(
            right=number(summary["right"]), checked=number(summary["checked"])
        )
    return text


@st.cache_resource(ttl=SHARED_SECONDS, max_entries=256, show_spinner=False)
def groups_snapshot(
    code: str, font_size: int, grouping: tuple[str, ...], language: str
) -> tuple[list[Group], go.Figure]:
    """The class's groups by ``grouping`` and their figure in ``language``, shared by the viewers who group alike
    and read the same language."""
    groups = class_groups(board_snapshot(code, font_size, language).runs, grouping)
    return groups, board_plots.groups_figure(groups, grouping, font_size=font_size)


def _choose_grouping() -> None:
    st.session_state[GROUP_CHOSEN_KEY] = True


def board_grouping(runs: list[ClassRun]) -> tuple[str, ...]:
    """The "Group by" control: what the class's finished trainings vary (``varied_settings``) until the viewer
    or a link's ``vary=`` chooses."""
    if not st.session_state.get(GROUP_CHOSEN_KEY):
        st.session_state[GROUP_KEY] = list(varied_settings(runs))
    chosen = st.multiselect(
        _("Group by"),
        GROUP_NAMES,
        key=GROUP_KEY,
        max_selections=MAX_GROUPING,
        format_func=lambda name: _(group_setting(name).name),
        on_change=_choose_grouping,
        placeholder=_("Nothing: the whole class in one group"),
        help=_(
            "The settings to group the class's runs by, the first along the x-axis. It starts with the settings "
            "the class's runs differ in (the seed aside); at most {count}."
        ).format(count=number(MAX_GROUPING)),
    )
    return tuple(chosen)


def _group_name(grouping: tuple[str, ...], group: Group, escape=str) -> str:
    if not grouping:
        return _("All runs")
    return ", ".join(
        f"{_(group_setting(name).name)} = {escape(value_text(group_setting(name), value))}"
        for name, value in zip(grouping, group.values)
    )


def _gap_text(group: Group) -> str:
    return "" if group.gap_closed is None else percent(group.gap_closed)


def _groups_text(groups: list[Group], grouping: tuple[str, ...], *, markdown: bool = False) -> str:
    """The groups' figure in a sentence; ``markdown``: the groups' values escaped ("ensemble:cnn*3" has a star)."""
    escape = escape_markdown if markdown else str
    by = ", ".join(_(group_setting(name).name) for name in grouping) or _("the whole class")
    parts = [
        # Translators: one group's part of a list, "student = mlp-10x1: -5.0 (1 training, -8% of the gap ... closed)".
        _("{group}: {mean} ({trainings}, {share} of the gap to the teacher closed)").format(
            group=_group_name(grouping, group, escape),
            mean=signed(group.mean),
            trainings=_trainings_text(group.trainings),
            share=_gap_text(group),
        )
        if group.gap_closed is not None
        else _("{group}: {mean} ({trainings})").format(
            group=_group_name(grouping, group, escape),
            mean=signed(group.mean),
            trainings=_trainings_text(group.trainings),
        )
        for group in groups
    ]
    # Translators: {settings} names what the groups differ in ("student", "T, alpha"), or "the whole class".
    text = _("Mean errors removed by distilling, by {settings}: {parts}.").format(settings=by, parts="; ".join(parts))
    unknown = sum(group.teacher_errors_unknown for group in groups)
    if unknown:
        text += " " + ngettext(
            "{count} training recorded without the teacher's test errors: left out of the share of the gap closed "
            "(blank where a group has none).",
            "{count} trainings recorded without the teacher's test errors: left out of the share of the gap closed "
            "(blank where a group has none).",
            unknown,
        ).format(count=number(unknown))
    return text


def _groups_table(groups: list[Group], grouping: tuple[str, ...]) -> list[dict]:
    return [
        {
            **{
                group_setting(name).name: value_text(group_setting(name), value)
                for name, value in zip(grouping, group.values)
            },
            "trainings": group.trainings,
            "mean errors removed": round(group.mean, 1),
            "by seed": "" if group.pool is None else group.pool.text(),
            "share of the gap closed": _gap_text(group),
        }
        for group in groups
    ]


def render_groups(code: str, font_size: int, runs: list[ClassRun]) -> None:
    """The class's trainings grouped by the "Group by" control: the figure, its sentence and its table."""
    grouping = board_grouping(runs)
    groups, figure = groups_snapshot(code, font_size, grouping, current_language())
    text = _groups_text(groups, grouping)
    _chart(
        figure,
        "board.groups",
        _("Points of the mean errors removed per group, with their seed intervals.") + " " + text,
    )
    st.markdown(_groups_text(groups, grouping, markdown=True))
    st.caption(_(GROUPS_NOTE))
    with st.expander(_("The groups as a table")):
        st.dataframe(
            _groups_table(groups, grouping),
            hide_index=True,
            key="board.groups.table",
            column_config={
                **{group_setting(name).name: _(group_setting(name).name) for name in grouping},
                **{column: _(column) for column in GROUPS_COLUMNS},
            },
        )


def render_results(snapshot: Snapshot, code: str, font_size: int) -> None:
    """The groups, the scatter and the heat map (while the class varies T or alpha) and the predictions, each
    with a text or table alternative."""
    runs = snapshot.runs
    if not finished(runs):
        st.info(_("No finished run yet: the charts appear with the first result."))
        return
    render_groups(code, font_size, runs)
    if snapshot.scatter is not None:  # the class varies T or alpha (varies_temperature_alpha)
        render_temperature_alpha(snapshot)
    render_predictions(snapshot)


def render_temperature_alpha(snapshot: Snapshot) -> None:
    """The scatter over T and the (T, alpha) heat map, with their text and table."""
    runs = snapshot.runs
    left, right = st.columns(2, gap="large")
    with left:
        scatter_text = _scatter_text(runs)
        _chart(
            snapshot.scatter,
            "board.scatter",
            _("Scatter of errors removed by distilling against T, coloured and shaped by alpha.") + " " + scatter_text,
        )
        st.markdown(scatter_text)
    with right:
        cells = heat_cells(runs)
        table = [
            {
                "alpha": alpha,
                **{
                    f"T={temperature:g}": ""
                    if mean is None
                    else _("{mean} (n={count}); by seed: {by_seed}").format(
                        mean=signed(mean), count=number(count), by_seed=pool.text()
                    )
                    for temperature, mean, count, pool in zip(cells.temperatures, means, counts, pools)
                },
            }
            for alpha, means, counts, pools in zip(cells.alphas, cells.means, cells.counts, cells.pools)
        ]
        _chart(
            snapshot.heatmap,
            "board.heatmap",
            _("Heat map of the class's mean errors removed for each T and alpha; the table below has every cell."),
        )
        st.caption(_(SEEDS_NOTE))
        with st.expander(_("The heat map as a table")):
            st.dataframe(table, hide_index=True, key="board.heatmap.table", column_config={"alpha": _("alpha")})


def run_predictions_shown(snapshot: Snapshot) -> bool:
    """Whether the board speaks of the runs' own predictions (the lab's ``predict=1``): when some run has one, or
    when nobody predicted anything (it then says so); not beside a lesson's answers alone ("Nobody has made a
    prediction yet" above "30 predictions made" read as a contradiction in the dry run of lesson 2)."""
    return bool(prediction_summary(snapshot.runs)["made"]) or not snapshot.lesson_predictions


def render_predictions(snapshot: Snapshot) -> None:
    """The predictions in words, beside their outcomes, and their figure where they have numbers."""
    runs = snapshot.runs
    if not run_predictions_shown(snapshot):
        return
    left, right = st.columns(2, gap="large")
    with right:
        prediction_text = _prediction_text(runs)
        st.markdown(prediction_text)
        checked = [(run, check) for run in runs if (check := check_prediction(run.prediction, run.errors_removed))]
        if checked:
            with st.expander(_("Each prediction beside its outcome")):
                st.dataframe(
                    [
                        {
                            "student": run.nickname,
                            "predicted": check.predicted_by,
                            "errors removed": check.removed,
                            "direction": _("right") if check.right_direction else _("wrong"),
                        }
                        for run, check in checked
                    ],
                    hide_index=True,
                    key="board.predictions.table",
                    column_config={column: _(label) for column, label in PREDICTIONS_COLUMNS.items()},
                )
    with left:
        if snapshot.predictions is not None:
            _chart(
                snapshot.predictions, "board.predictions", _("Predictions against outcomes.") + " " + prediction_text
            )


def shown_lessons(lesson: Lesson | None, made: list[ClassPrediction]) -> list[Lesson]:
    """The lesson the board's link names (if it asks a question), else each lesson the class answered, in the
    lessons' order."""
    if lesson is not None:
        return [lesson] if lesson.question is not None else []
    answered = {prediction.lesson for prediction in made}
    return [found for slug, found in lessons_by_slug().items() if slug in answered and found.question is not None]


def render_lesson_predictions(snapshot: Snapshot, lessons: list[Lesson], *, hidden: bool, font_size: int) -> None:
    """Each lesson's predictions: while the results are hidden only how many were made; after the reveal a
    histogram (choices in their order, or number bins beside the class's errors removed) and the same in words."""
    for lesson in lessons:
        question = lesson.question
        answers = lesson_answers(question, lesson.slug, snapshot.lesson_predictions)
        st.markdown("#### " + _("Predictions: {lesson}").format(lesson=lesson.title))
        st.caption(lesson.prediction)
        if hidden or not answers:
            made = ngettext("{count} prediction made.", "{count} predictions made.", len(answers)).format(
                count=number(len(answers))
            )
            more = " " + _("The answers show after **Reveal**.") if hidden and answers else ""
            st.markdown(f"**{made}**{more}")
            continue
        outcomes = []
        if question.kind == "number":  # the class's trainings, each once, in the same bins
            outcomes = [round(removed) for _, removed in trainings(snapshot.runs)]
        rows = answer_counts(question, answers, outcomes)
        words = "; ".join(f"{label}: {number(count)}" for label, count, _outcomes in rows)
        # Translators: "30 predictions: yes: 20; no: 10."
        text = _("{predictions}: {counts}.").format(predictions=_predictions_text(len(answers)), counts=words)
        if outcomes:
            counts = "; ".join(f"{label}: {number(count)}" for label, _predicted, count in rows if count)
            text += " " + _("Errors removed by the class's trainings: {counts}.").format(counts=counts)
        _chart(
            board_plots.lesson_predictions_figure(
                rows, title=lesson.title, unit=question.unit, outcomes=bool(outcomes), font_size=font_size
            ),
            f"board.lesson.{lesson.slug}",
            _("Histogram of the class's predictions.") + " " + text,
        )
        st.markdown(text)


def render_reveal_answers(code: str) -> None:
    """On a server without an instructor key: a button that reveals class ``code``'s answers (its lesson
    predictions become final, and the Lessons page shows this class what to notice)."""
    try:
        info = find_class(open_database(), code)
    except StorageError:
        return
    if info is None or info.revealed:
        return
    if st.button(
        _("Reveal the answers"),
        key="board.reveal",
        icon=":material/visibility:",
        help=_("The class's predictions become final, and the Lessons page shows what to notice for this class."),
    ):
        set_class(open_database(), code, results_hidden=False)
        st.rerun()


def render_board_once(code: str, *, large: bool, lesson: Lesson | None = None) -> None:
    """One drawing of the board of class ``code``, with the predictions of ``lesson`` (else of every lesson
    the class answered)."""
    try:
        database = open_database()
        info = find_class(database, code)  # not cached: hiding, revealing and closing show at once
        font_size = 22 if large else 14
        snapshot = board_snapshot(info.code, font_size, current_language()) if info is not None else None
    except StorageError as error:
        st.error(_("**The class board cannot be read right now.** {error}").format(error=error))
        return
    if info is None:
        st.info(
            _(
                "There is no class {code} on this server yet. Your teacher opens it, or a lab link with "
                "`class={code}` does on a server without an instructor key."
            ).format(code=code)
        )
        return
    runs = snapshot.runs
    with st.container(key="board-view"):
        if large:
            st.html(LARGE_CSS)
        st.markdown(f"## {headline(runs)}")
        caption = _("Class {code}: {title}. Refreshes every {seconds} s; last at {time}.").format(
            code=info.code,
            title=escape_markdown(info.title),
            seconds=number(REFRESH_SECONDS),
            time=time.strftime("%H:%M:%S"),
        )
        if not info.is_open:
            caption += " " + _("This class is closed: new runs are not added.")
        st.caption(caption)
        if info.results_hidden:
            st.info(
                _(
                    "**The results are hidden until your teacher reveals them.** Make your prediction and run; "
                    "the board shows how many ran and what the class predicted."
                )
            )
            if run_predictions_shown(snapshot):
                st.markdown(_prediction_text(runs))
        else:
            render_results(snapshot, info.code, font_size)
        render_lesson_predictions(
            snapshot,
            shown_lessons(lesson, snapshot.lesson_predictions),
            # Without an instructor key nothing hides the results: the answers wait for the board's own Reveal, so
            # a projected board does not show the class what the first few predicted.
            hidden=info.results_hidden or (not instructor_key_set() and not info.revealed),
            font_size=font_size,
        )
        if runs:
            st.dataframe(
                table_rows(runs, hide_results=info.results_hidden),
                hide_index=True,
                key="board.table",
                alt=_("Every run of class {code}, newest first: {headline}.").format(
                    code=info.code, headline=headline(runs)
                ),
                column_config={column: _(label) for column, label in TABLE_HEADERS.items()},
            )


def render_board(code: str, *, large: bool, lesson: Lesson | None = None) -> None:
    """The board of class ``code``, redrawn every ``REFRESH_SECONDS`` (only the board reruns)."""

    @st.fragment(run_every=REFRESH_SECONDS)
    def live_board() -> None:
        choose_language()  # a refresh runs without the page's script, which sets the language
        render_board_once(code, large=large, lesson=lesson)

    live_board()
