"""The dark knowledge explorer's page: what the temperature does to a trained teacher's outputs.

Nothing is retrained here: the teacher's logits for every test image are stored with the
cached teacher, so moving the slider only re-applies softmax(z / T), a few milliseconds. An
ensemble teacher (``ensemble:cnn*3``) is shown through its members: its soft targets at T are
the mean of their softmax(z_m / T), and each member's distribution is drawn beside that mean.

With no cached teacher, a quick teacher (``kdlab.teachers.quick``, trained in seconds) stands in while the
chosen one trains; a fragment follows that training and reruns the page when it ends, so the chosen teacher
replaces the quick one without a reload. Every chart's subtitle names the teacher that produced it.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

import streamlit as st
import torch

from kdlab.classroom.glossary import FirstUses
from kdlab.classroom.links import (
    ADVANCED,
    EXPLORER_PARAMETERS,
    EXPLORER_TEMPERATURES,
    ParsedLink,
    parse_explorer_link,
)
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.data import ImageSet
from kdlab.ml.metrics import class_similarity, entropy_bits, order_changes, softened_probabilities
from kdlab.plots import ensembles as ensemble_plots
from kdlab.plots import lab as plots
from kdlab.plots.style import with_source
from kdlab.plots.temperature import significant
from kdlab.teachers.teacher import Teacher
from kdlab.ui.assignment import apply_page_link
from kdlab.ui.drawing import drawn_digit
from kdlab.ui.explorer_features import render_teacher_features
from kdlab.ui.explorer_temperature import render_limit, render_standardised
from kdlab.ui.lesson_question import render_lesson_question
from kdlab.ui.progress import follow_job
from kdlab.ui.resources import get_data, teacher_or_stand_in
from kdlab.ui.widgets import advanced_section, teacher_selectbox

TEMPERATURES = list(EXPLORER_TEMPERATURES)  # a link's ?T= may ask for these (kdlab.classroom.links checks it)
ENTROPY_GRID = torch.logspace(math.log10(0.5), math.log10(50.0), 60)  # (60,)
CONFUSING_COUNT = 30
RUNNER_UPS = 3
IMAGE_ZOOM = 6
MODES = [N_("By class"), N_("Random"), N_("Most confusing"), N_("Draw your own")]  # values stay English: shown with _()
FULL_TEACHER_CHECK_SECONDS = 2.0  # how often a page showing the quick teacher looks at the chosen one's training


@dataclass(frozen=True)
class ShownTeacher:
    """The teacher whose outputs the page shows, and the chosen teacher it stands in for while that one trains
    (None: it is the chosen teacher)."""

    teacher: Teacher
    stands_in_for: str | None = None

    @property
    def noun(self) -> str:
        """Which teacher the page's headings name: "teacher" or "quick teacher" (a key of their messages)."""
        return "quick teacher" if self.stands_in_for else "teacher"

    @property
    def label(self) -> str:
        """Which teacher produced a number or a chart: its architecture, epochs and test accuracy."""
        record = self.teacher.record
        values = dict(architecture=record.architecture, count=record.epochs, share=percent(record.test_accuracy, 1))
        if not self.stands_in_for:
            return ngettext(
                "Teacher {architecture}: {count} epoch, {share} of the test images right",
                "Teacher {architecture}: {count} epochs, {share} of the test images right",
                record.epochs,
            ).format(**values)
        label = ngettext(
            "Quick teacher {architecture}: {count} epoch, {share} of the test images right",
            "Quick teacher {architecture}: {count} epochs, {share} of the test images right",
            record.epochs,
        ).format(**values)
        return _("{label} (standing in for {chosen}, in training)").format(label=label, chosen=self.stands_in_for)


KNOWS = {"teacher": N_("What the teacher knows"), "quick teacher": N_("What the quick teacher knows")}
LOOK_ALIKE = {
    "teacher": N_("Which digits look alike to the teacher"),
    "quick teacher": N_("Which digits look alike to the quick teacher"),
}


def chance(probability: float) -> str:
    """A probability in words a student reads easily, in the current language: "12%", "0.3%" or "1 in 41,000"."""
    if probability >= 0.1:
        return percent(probability, 1)
    if probability >= 0.001:
        return percent(probability, len(f"{probability * 100:.2g}".partition(".")[2]))  # two significant digits
    if probability <= 0:
        return number(0)
    odds = 1 / probability
    rounded = round(odds, -int(math.floor(math.log10(odds))) + 1)
    return _("1 in {odds}").format(odds=number(rounded, 0))


def times(ratio: float) -> str:
    """A ratio as "12×" or "3.4×"."""
    return _("{ratio}×").format(ratio=number(ratio, 0 if ratio >= 10 else 1))


def order_text(plain: torch.Tensor, softened: torch.Tensor, temperature: float, is_ensemble: bool) -> str:
    """Whether the temperature changed the order of the digits here, and why: never for one network; an ensemble's
    average of softened probabilities can (``kdlab.ml.metrics.order_changes``)."""
    if not is_ensemble:
        return _(
            "For one network the temperature never changes their order: dividing every score by the same T keeps "
            "the scores' order. It makes the small numbers big enough to learn from."
        )
    changes = order_changes(plain, softened)
    if not changes:
        return _(
            "Their order is the same as at T = 1 here. It need not be: this teacher averages its members' softened "
            "probabilities, and that average can reorder digits as T changes."
        )
    below, above = changes[0]
    return _(
        "At T = {temperature} this teacher ranks **{above}** above **{below}**, the other way round from T = 1: it "
        "averages its members' softened probabilities, and at T = 1 the surest member's answer dominates that "
        "average, at high T every member's scores count about equally."
    ).format(temperature=number(temperature), above=above, below=below)


def dark_knowledge_text(
    plain: torch.Tensor, softened: torch.Tensor, label: int | None, temperature: float, is_ensemble: bool = False
) -> str:
    """The runner-up classes and their relative probabilities, in words; ``label`` None for a drawn digit."""
    predicted = int(plain.argmax())
    runner_ups = [d for d in plain.argsort(descending=True).tolist() if d != predicted][:RUNNER_UPS]
    sure = dict(share=chance(float(plain[predicted])), digit=predicted)
    if label is None:
        verdict = _(
            "**{share}**: how sure the teacher is that this is a **{digit}** at T = 1, for your drawing: is that "
            "what you drew?"
        ).format(**sure)
    elif predicted == label:
        verdict = _("**{share}**: how sure the teacher is that this is a **{digit}** at T = 1, which is right.").format(
            **sure
        )
    else:
        verdict = _(
            "**{share}**: how sure the teacher is that this is a **{digit}** at T = 1, but the label says "
            "**{label}**: the teacher is wrong here."
        ).format(**sure, label=label)
    first, second = runner_ups[0], runner_ups[1]
    ratio = float(plain[first] / plain[second])
    at_one = [_("**{digit}** ({share})").format(digit=d, share=chance(float(plain[d]))) for d in runner_ups]
    at_t = [_("**{digit}** {share}").format(digit=d, share=chance(float(softened[d]))) for d in runner_ups]
    lines = [
        verdict,
        _("The other nine digits share {share}. The runner-ups are {first}, {second}, {third}.").format(
            share=chance(1 - float(plain[predicted])), first=at_one[0], second=at_one[1], third=at_one[2]
        ),
        _("At T = {temperature} the same runner-ups get {first}, {second}, {third}.").format(
            temperature=number(temperature), first=at_t[0], second=at_t[1], third=at_t[2]
        )
        + " "
        + order_text(plain, softened, temperature, is_ensemble),
        _(
            "The teacher finds this image {ratio} more like a **{first}** than like a **{second}** (at "
            "T = {temperature}: {ratio_at_t})."
        ).format(
            ratio=times(ratio),
            first=first,
            second=second,
            temperature=number(temperature),
            ratio_at_t=times(float(softened[first] / softened[second])),
        ),
        _(
            "That is the dark knowledge. The label only says *{label}*; the teacher's soft targets also say which "
            "wrong answers are less wrong."
        ).format(label=label)
        if label is not None
        else _(
            "That is the dark knowledge. A label would only say which digit it is; the teacher's soft targets also "
            "say which wrong answers are less wrong."
        ),
    ]
    return "\n\n".join(lines)


def soft_parts_text(softened: torch.Tensor, label: int | None, temperature: float) -> str:
    """The soft target at T in Zhao et al.'s two parts: the right digit against the rest (what TCKD
    matches) and the wrong digits renormalised among themselves (what NCKD matches), which classical
    KD weights by 1 - p(right digit); ``label`` None (a drawing): the teacher's answer stands in."""
    target = int(softened.argmax()) if label is None else label
    right = float(softened[target])
    wrong = [digit for digit in softened.argsort(descending=True).tolist() if digit != target]
    rest = max(1.0 - right, 1e-30)
    shares = [
        _("{digit}: {share}").format(digit=digit, share=chance(float(softened[digit]) / rest))
        for digit in wrong[:RUNNER_UPS]
    ]
    values = dict(
        temperature=number(temperature),
        target=target,
        right=chance(right),
        rest=chance(1.0 - right),
        first=shares[0],
        second=shares[1],
        third=shares[2],
        weight=significant(1.0 - right),
    )
    if label is None:
        return _(
            "**The two parts of the soft target at T = {temperature}**: its answer ({target}) against the rest, what "
            "TCKD matches: {right} against {rest}. The wrong digits among themselves, what NCKD matches: {first}, "
            "{second}, {third}, ... Classical KD weights this second part by {weight}: the surer the teacher, the "
            "less its ranking of the wrong digits counts."
        ).format(**values)
    return _(
        "**The two parts of the soft target at T = {temperature}**: the right digit ({target}) against the rest, what "
        "TCKD matches: {right} against {rest}. The wrong digits among themselves, what NCKD matches: {first}, "
        "{second}, {third}, ... Classical KD weights this second part by {weight}: the surer the teacher, the "
        "less its ranking of the wrong digits counts."
    ).format(**values)


def most_confusing(logits: torch.Tensor, count: int) -> list[int]:
    """Test indices where the teacher's top two scores are closest (one network: at any T; an ensemble: at T = 1)."""
    top_two = logits.topk(2, dim=1).values  # (N, 2)
    return (top_two[:, 0] - top_two[:, 1]).argsort()[:count].tolist()


def similar_pairs_text(similarity: torch.Tensor, temperature: float) -> str:
    """The three strongest off-diagonal cells of the class-similarity matrix, in words."""
    off_diagonal = similarity.clone().fill_diagonal_(float("nan")).nan_to_num(-1.0)
    best = off_diagonal.flatten().argsort(descending=True)[:3].tolist()
    pairs = [
        _("**{digit}s** like **{other}** ({share})").format(
            digit=cell // 10, other=cell % 10, share=chance(float(off_diagonal.flatten()[cell]))
        )
        for cell in best
    ]
    return _(
        "On average at T = {temperature}, the teacher sees {first}, {second}, {third}. A student trained on these "
        "soft targets learns these resemblances too."
    ).format(temperature=number(temperature), first=pairs[0], second=pairs[1], third=pairs[2])


def set_from_link(name: str, value) -> None:
    """?digit= shows that digit by class; ?T= sets the temperature; ?standardise= the standardisation toggle."""
    if name == "digit":
        st.session_state["explorer.mode"], st.session_state["explorer.digit"] = MODES[0], value
    elif name == "standardise":
        st.session_state["explorer.standardise"] = value
    else:
        st.session_state["explorer.temperature"] = value


def choose_teacher() -> ShownTeacher:
    """The teacher box (bound to the URL) and the trained teacher with its caption; while the chosen teacher
    trains, the quick teacher, said loudly, above the chosen one's progress."""
    architecture = teacher_selectbox(_("Teacher"), key="explorer.teacher", bind="query-params")
    teacher, training = teacher_or_stand_in(architecture, key="explorer.teacher_job")
    record = teacher.record
    facts = ngettext(
        "{share} of the {test_size} test images right ({errors} errors), trained {count} epoch on {train_size} images",
        "{share} of the {test_size} test images right ({errors} errors), trained {count} epochs on {train_size} images",
        record.epochs,
    ).format(
        share=percent(record.test_accuracy, 2),
        test_size=number(record.test_size),
        errors=number(record.test_errors),
        count=number(record.epochs),
        train_size=number(record.train_size),
    )
    if training is None:
        if teacher.is_ensemble:
            caption = _("Teacher {architecture}: {facts}, each of its {count} members.").format(
                architecture=architecture, facts=facts, count=len(teacher.members)
            )
        else:
            caption = _("Teacher {architecture}: {facts}.").format(architecture=architecture, facts=facts)
        st.caption(caption)
        return ShownTeacher(teacher)
    st.warning(
        _(
            "**Everything below comes from a quick teacher, {quick}**: {facts}. The teacher you chose, "
            "**{chosen}**, is training; it replaces the quick teacher here, without a reload, when it is ready."
        ).format(quick=record.architecture, facts=facts, chosen=architecture),
        icon=":material/bolt:",
    )
    follow_job(training, key="explorer.teacher_job", stoppable=False, interval=FULL_TEACHER_CHECK_SECONDS)
    return ShownTeacher(teacher, architecture)


def choose_image(teacher: Teacher, test: ImageSet, link: ParsedLink) -> int | None:
    """The test image to look at: by class, at random or among the closest calls; returns its index
    (None: the student draws their own)."""
    mode = st.radio(
        _("Choose a test digit"),
        MODES,
        format_func=_,
        horizontal=True,
        key="explorer.mode",
        disabled=link.is_locked("digit"),
    )
    if mode == "By class":
        digit = st.radio(
            _("Digit"),
            list(range(10)),
            index=3,
            horizontal=True,
            key="explorer.digit",
            disabled=link.is_locked("digit"),
        )
        members = torch.nonzero(test.labels == digit).flatten()
        smallest_class = min(count for count in test.class_counts() if count) or 1
        example = st.slider(_("Example of this digit"), 1, smallest_class, 1, key="explorer.example")
        return int(members[min(example, len(members)) - 1]) if len(members) else 0
    if mode == "Random":
        if "explorer.random_index" not in st.session_state:
            st.session_state["explorer.random_index"] = random.randrange(len(test))
        if st.button(_("Another random digit"), key="explorer.random", icon=":material/casino:"):
            st.session_state["explorer.random_index"] = random.randrange(len(test))
        return st.session_state["explorer.random_index"]
    if mode == "Draw your own":
        return None
    confusing = most_confusing(teacher.test_logits, CONFUSING_COUNT)
    rank = st.slider(
        _("Rank among the {count} digits the teacher is least sure about").format(count=CONFUSING_COUNT),
        1,
        len(confusing),
        1,
        key="explorer.rank",
        help=_("1 = the closest call between two digits."),
    )
    return confusing[rank - 1]


def render_members(
    shown: ShownTeacher,
    member_softened: torch.Tensor,
    softened: torch.Tensor,
    temperature: float,
    label: int,
    log_scale: bool,
) -> None:
    """An ensemble teacher: its members' distributions beside their mean, and how often they disagree."""
    teacher = shown.teacher
    networks = teacher.members
    record, best = teacher.record, teacher.best_member()
    disagreement = teacher.summary()["test_disagreement"]
    st.subheader(_("One teacher made of several"))
    st.markdown(
        _(
            "This teacher is **{count} networks**; its soft targets at T are the *average of their "
            "probabilities* at T (the arithmetic mean: what an ensemble predicts, and no single confident member can "
            "outvote the others the way averaging logits would allow). The ensemble gets **{errors}** test images "
            "wrong, its best member ({best}, seed {seed}) **{best_errors}**. The members disagree about the digit on "
            "**{any}** of the test images (two members at a time: {pairwise}); where they disagree, the average is "
            "softer than any member, and that is extra dark knowledge."
        ).format(
            count=len(networks),
            errors=number(record.test_errors),
            best=best.record.architecture,
            seed=best.record.seed,
            best_errors=number(best.record.test_errors),
            any=percent(disagreement["any"], 1),
            pairwise=percent(disagreement["pairwise"], 1),
        )
    )
    names = [
        _("{architecture} (seed {seed})").format(architecture=network.record.architecture, seed=network.record.seed)
        for network in networks
    ]
    figure = ensemble_plots.member_distributions(
        member_softened.tolist(), names, softened.tolist(), temperature, label, log_scale
    )
    st.plotly_chart(with_source(figure, shown.label), key="explorer.members")


def render_explanation(
    shown: ShownTeacher,
    plain: torch.Tensor,
    softened: torch.Tensor,
    label: int,
    temperature: float,
    entropies: torch.Tensor,
    words: FirstUses,
    advanced: bool,
) -> None:
    """What the teacher knows about this digit, in words (the soft target's two parts in the Advanced section,
    open when ``advanced``), beside the entropy of its soft targets against T."""
    text, curve = st.columns([1, 2], gap="large")
    with text:
        st.subheader(_(KNOWS[shown.noun]))
        st.markdown(words.link(dark_knowledge_text(plain, softened, label, temperature, shown.teacher.is_ensemble)))
        with advanced_section(advanced, _("the soft target's two parts (TCKD and NCKD)")):
            st.markdown(words.link(soft_parts_text(softened, label, temperature)))
    with curve:
        current = float(entropy_bits(softened))
        figure = plots.entropy_curve(ENTROPY_GRID.tolist(), entropies.tolist(), temperature, current)
        st.plotly_chart(with_source(figure, shown.label), key="explorer.entropy")
        st.caption(
            words.link(
                _(
                    "Entropy measures how spread out the probabilities are: 0 bits is total certainty, 3.32 bits is all "
                    "ten digits equally likely. As T grows, every probability gets close to 1 in 10. The teacher's "
                    "knowledge is not lost: the differences between the probabilities shrink like 1/T and still follow "
                    "the differences between its scores. The loss multiplies the soft term by T², so at very high T "
                    "distilling becomes matching the teacher's scores (logits) directly (Hinton et al. 2015, section "
                    "2.1). Which T teaches best is an experiment: lesson 3."
                )
            )
        )


def render_similarity(
    shown: ShownTeacher,
    similarity: torch.Tensor,
    temperature: float,
    computed_ms: float,
    test_count: int,
    words: FirstUses,
) -> None:
    """Which digits look alike to the teacher at T, as a heatmap and in words, and what it cost to compute."""
    st.subheader(_(LOOK_ALIKE[shown.noun]))
    hide_diagonal = st.toggle(_("Hide the diagonal (the correct digit)"), value=True, key="explorer.hide_diagonal")
    figure = plots.similarity_heatmap(similarity.tolist(), temperature, hide_diagonal)
    st.plotly_chart(with_source(figure, shown.label), key="explorer.similarity")
    st.markdown(words.link(similar_pairs_text(similarity, temperature)))
    st.caption(
        _(
            "Computed in {milliseconds} ms, with no retraining: the teacher's scores for all {count} test images "
            "are stored with the cached teacher, and moving T only re-applies the softmax."
        ).format(milliseconds=number(computed_ms, 1), count=number(test_count))
    )


def render_explorer_page() -> None:
    """The explorer below its title: teacher, temperature, a test digit, its soft targets in bars and words,
    the entropy curve, an ensemble's members, what the teacher's features hold, and which digits look alike."""
    render_lesson_question("explorer")  # a lesson's link: its question, above the page
    words = FirstUses()
    st.markdown(
        words.link(
            _(
                "How sure is the teacher, and what does it think a digit *could* have been? Pick a test digit and "
                "slide the temperature T. The teacher's scores (logits) are divided by T before the softmax."
            )
        )
    )
    data = get_data()
    test = data.test
    shown = choose_teacher()
    teacher = shown.teacher
    # a lesson's link: the digit, T, their locks, and whether the Advanced sections start open
    link = apply_page_link("explorer", parse_explorer_link, (*EXPLORER_PARAMETERS, ADVANCED), set_from_link)
    temperature = st.select_slider(
        _("Temperature T (log scale) (locked by the lesson's link)")
        if link.is_locked("T")
        else _("Temperature T (log scale)"),
        TEMPERATURES,
        value=4.0,
        key="explorer.temperature",
        disabled=link.is_locked("T"),
        format_func=number,
        help=_("T = 1 is the usual softmax. Larger T spreads probability onto the other digits."),
    )
    picker, bars = st.columns([1, 2], gap="large")
    # One network is an ensemble of one: its soft targets at T are the mean over members of softmax(z_m / T).
    networks = teacher.members or [teacher]
    with picker:
        index = choose_image(teacher, test, link)
        if index is None:
            label, digit = None, drawn_digit("explorer.canvas")
            member_logits = None if digit is None else torch.stack([net.predict(digit[None])[0] for net in networks])
        else:
            label, digit = int(test.labels[index]), test.images[index]  # (28, 28) uint8
            image = digit.numpy().repeat(IMAGE_ZOOM, axis=0).repeat(IMAGE_ZOOM, axis=1)
            st.image(
                image,
                width=28 * IMAGE_ZOOM,
                caption=_("Test image #{index}, labelled {label}").format(index=index, label=label),
            )
            member_logits = torch.stack([network.test_logits[index] for network in networks])  # (M, 10)
    if member_logits is not None:
        # The teacher's scores for the digit (10,): one network's own; an ensemble's, the log of its averaged
        # probabilities at T = 1 (stored for the test digits)
        if not teacher.is_ensemble:
            teacher_row = member_logits[0]
        else:
            teacher_row = teacher.test_logits[index] if index is not None else teacher.predict(digit[None])[0]
        render_digit(shown, member_logits, teacher_row, label, temperature, bars, words, link)
        render_limit(shown.label, teacher, digit, teacher_row, temperature, TEMPERATURES, words)
        render_teacher_features(
            teacher, digit, words, source=shown.label, noun=shown.noun, stands_in_for=shown.stands_in_for
        )
    started = time.perf_counter()
    similarity = class_similarity(teacher.logits_at(temperature, "test"), test.labels, temperature)  # (10, 10)
    computed_ms = (time.perf_counter() - started) * 1000
    render_similarity(shown, similarity, temperature, computed_ms, len(test), words)


def render_digit(
    shown: ShownTeacher,
    member_logits: torch.Tensor,
    teacher_row: torch.Tensor,
    label: int | None,
    temperature: float,
    bars,
    words: FirstUses,
    link: ParsedLink,
) -> None:
    """One digit's soft targets (``member_logits`` (M, 10), one row per network) in bars and words, the
    teacher's scores ``teacher_row`` (10,) standardised when the toggle is on, the entropy curve and an ensemble's
    members; ``label`` None for a drawn digit."""
    member_softened = softened_probabilities(member_logits, temperature)  # (M, 10)
    plain = softened_probabilities(member_logits, 1.0).mean(0)  # (10,)
    softened = member_softened.mean(0)
    entropies = entropy_bits(torch.softmax(member_logits[None] / ENTROPY_GRID[:, None, None], dim=-1).mean(1))  # (60,)
    with bars:
        log_scale = st.toggle(_("Log scale (shows the tiny probabilities at T = 1)"), key="explorer.log")
        figure = plots.probability_bars(plain.tolist(), softened.tolist(), temperature, label, log_scale)
        st.plotly_chart(with_source(figure, shown.label), key="explorer.bars")
        if st.toggle(
            _("Standardise the logits (locked by the lesson's link)")
            if link.is_locked("standardise")
            else _("Standardise the logits"),
            key="explorer.standardise",
            disabled=link.is_locked("standardise"),
            help=_("z-score the teacher's scores for each digit before dividing by T (Sun et al. 2024)."),
        ):
            render_standardised(shown.teacher, teacher_row, label, temperature, words)
    render_explanation(shown, plain, softened, label, temperature, entropies, words, link.advanced)
    if shown.teacher.is_ensemble:
        render_members(shown, member_softened, softened, temperature, label, log_scale)
