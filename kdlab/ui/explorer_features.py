"""The explorer's look inside the teacher: what its features hold for the digit on the page, before a student
distils them. Each conv block's attention map over the digit (what attention transfer copies), its most active
feature maps, and the last hidden layer (what hints, RKD and SP use), each chart with a sentence of its numbers.
A network without conv blocks, or an ensemble, says why it has no maps.

The view is read once per (teacher, digit) with ``kdlab.ml.feature_view`` (no gradients, one image) and kept in
the session for its reruns: moving T reads no features again, only draws the two figures again (about 50 ms
on one thread, ``kdlab.plots.features``).
"""

from __future__ import annotations

import hashlib

import streamlit as st
import torch

from kdlab.classroom.glossary import FirstUses
from kdlab.i18n import N_, _, number, percent
from kdlab.ml.feature_view import BlockView, FeatureView, HiddenView, feature_view
from kdlab.ml.features import BLOCK_TAPS, feature_shapes
from kdlab.ml.models import ARCHITECTURES
from kdlab.plots import features as plots
from kdlab.plots.style import with_source
from kdlab.teachers.teacher import Teacher

BLOCK_NAMES = dict(zip(BLOCK_TAPS, (N_("Block 1"), N_("Block 2"))))  # shown with _()
VIEW_KEY = "explorer.features"  # the session's one view: (its teacher and digit, the view)
INTRO = N_(
    "The soft targets are what the teacher *says* about this digit. On the way there it computes features: in each "
    "conv block, feature maps (one per learned filter, bright where its pattern appears), then a last hidden layer "
    "the ten scores are computed from. KD copies only the outputs; feature-based distillation also copies the "
    "features (an attention map, or a hint layer through a small regressor), and relation-based distillation copies "
    "how the teacher places this digit among the others. Lesson 8 compares them."
)
HOLDS = {  # the section's title, by the noun of the teacher shown (``kdlab.ui.explorer.ShownTeacher.noun``)
    "teacher": N_("What the teacher's features hold"),
    "quick teacher": N_("What the quick teacher's features hold"),
}
# Where a pixel lies on the digit, by the third of its height and of its width it lies in.
REGIONS = {
    ("top", "left"): N_("the top left"),
    ("top", "centre"): N_("the top"),
    ("top", "right"): N_("the top right"),
    ("middle", "left"): N_("the left side"),
    ("middle", "centre"): N_("the centre"),
    ("middle", "right"): N_("the right side"),
    ("bottom", "left"): N_("the bottom left"),
    ("bottom", "centre"): N_("the bottom"),
    ("bottom", "right"): N_("the bottom right"),
}


def conv_teachers() -> list[str]:
    """The zoo's networks with conv blocks, whose maps the explorer can show."""
    return [name for name in ARCHITECTURES if BLOCK_TAPS[0] in feature_shapes(name)]


def region(row: float, column: float, size: int = 28) -> str:
    """Where a pixel lies on the digit, in words: "the top left", "the centre", "the right side"."""
    vertical = ("top", "middle", "bottom")[min(2, int(3 * row // size))]
    horizontal = ("left", "centre", "right")[min(2, int(3 * column // size))]
    return _(REGIONS[vertical, horizontal])


def attention_text(blocks: tuple[BlockView, ...]) -> str:
    """The attention maps in words with their numbers: where each peaks on the digit and how concentrated it is."""
    lines = []
    for block in blocks:
        channels, height, width = block.shape
        row, column = block.peak
        y, x = block.pixel(row), block.pixel(column)
        cells, share = block.brightest_share()
        lines.append(
            _(
                "**{block}** ({channels} maps of {height} x {width}): its attention peaks at row {row}, column "
                "{column} of its map, around pixel row {pixel_row}, column {pixel_column} of the 28 x 28 digit "
                "({region}); the brightest {cells} of its {size} cells hold {share} of the attention (spread evenly "
                "they would hold {even})."
            ).format(
                block=_(BLOCK_NAMES[block.tap]),
                channels=channels,
                height=height,
                width=width,
                row=row + 1,
                column=column + 1,
                pixel_row=round(y) + 1,
                pixel_column=round(x) + 1,
                region=region(y, x),
                cells=cells,
                size=height * width,
                share=percent(share),
                even=percent(cells / (height * width)),
            )
        )
    lines.append(
        _(
            "An attention map sums each place's squared activations over all the block's maps: attention transfer "
            "trains a student's maps to light up where these do."
        )
    )
    return " ".join(lines)


def channels_text(blocks: tuple[BlockView, ...]) -> str:
    """The most active channels of each block in words, with their mean activations."""
    parts = [
        _(
            "{block}'s {shown} most active of its {channels} channels average {highest} (channel {first}) down to "
            "{lowest} (channel {last})."
        ).format(
            block=_(BLOCK_NAMES[block.tap]),
            shown=len(block.channels),
            channels=block.shape[0],
            highest=number(float(block.activity[0]), 2),
            first=block.channels[0],
            lowest=number(float(block.activity[-1]), 2),
            last=block.channels[-1],
        )
        for block in blocks
    ]
    parts.append(
        _(
            "Each map is drawn in its own range, dark at 0: a channel is one filter's answer to \"where is my "
            "pattern?\" (an edge, a stroke's end, a curve), and a different digit lights up different ones."
        )
    )
    return " ".join(parts)


def hidden_text(hidden: HiddenView) -> str:
    """The last hidden layer in one line: its size and how many units fire for this digit."""
    return _(
        "**Its last hidden layer has {size} units; {active} of them fire** (are above 0) for this digit ({share}), "
        "the strongest (unit {strongest}) at {value}. The ten scores are a weighted sum of these {size} numbers: "
        "hints copy them through a regressor, RKD and SP copy how they place digits relative to each other."
    ).format(
        size=number(hidden.size),
        active=number(hidden.active),
        share=percent(hidden.active / hidden.size),
        strongest=hidden.strongest,
        value=number(hidden.strongest_value, 2),
    )


def no_maps_text(architecture: str, view: FeatureView, stands_in_for: str | None = None) -> str:
    """Why a network without conv blocks shows no maps, what it has instead, and where to see maps: the chosen
    teacher's, when ``architecture`` only stands in for it while it trains, else a teacher with conv blocks."""
    convolutional = conv_teachers()
    if stands_in_for in convolutional:
        then = _("The teacher you chose, {chosen}, has conv blocks: its maps show here when it is ready.").format(
            chosen=stands_in_for
        )
    else:
        then = _("Choose a teacher with conv blocks ({names}) to see its maps.").format(names=", ".join(convolutional))
    if view.hidden is None:
        why = _(
            "**{architecture} has no feature maps and no hidden layer:** its ten scores are weighted sums of the "
            "pixels, with nothing computed in between, so only its outputs (the soft targets above) can be distilled."
        ).format(architecture=architecture)
    else:
        why = _(
            "**{architecture} has no feature maps to show: it has no conv blocks.** Its layers are fully connected, "
            "each unit looking at the whole digit at once, so there is no map of places to attend to, and attention "
            "transfer does not apply."
        ).format(architecture=architecture)
    return f"{why} {then}"


def ensemble_text(teacher: Teacher) -> str:
    """Why an ensemble shows no features."""
    members = ", ".join(member.record.architecture for member in teacher.members)
    return _(
        "**An ensemble has no one set of features:** each of its {count} networks ({members}) computes its own, and "
        "only their softened outputs are averaged. So feature- and relation-based methods need one teacher network: "
        "choose one to see its features."
    ).format(count=len(teacher.members), members=members)


def cached_view(teacher: Teacher, digit: torch.Tensor) -> FeatureView:
    """``teacher``'s view of ``digit``, read once and kept in the session until the teacher or digit changes."""
    record = teacher.record
    key = (record.architecture, record.epochs, record.seed, record.train_size, record.test_errors)
    key += (hashlib.sha256(digit.numpy().tobytes()).hexdigest(),)
    kept = st.session_state.get(VIEW_KEY)
    if kept is not None and kept[0] == key:
        return kept[1]
    view = feature_view(teacher.model, digit)
    st.session_state[VIEW_KEY] = (key, view)
    return view


def render_teacher_features(
    teacher: Teacher,
    digit: torch.Tensor,
    words: FirstUses,
    *,
    source: str,
    noun: str = "teacher",
    stands_in_for: str | None = None,
) -> None:
    """What ``teacher``'s features hold for ``digit`` (uint8 (28, 28)): attention maps, feature maps and the
    last hidden layer, or why it has none; ``source`` names the teacher on each chart, ``noun`` in the title
    (the quick teacher, ``stands_in_for`` the chosen one while that one trains)."""
    st.subheader(_(HOLDS[noun]))
    st.markdown(words.link(_(INTRO)))
    if teacher.is_ensemble:
        st.info(words.link(ensemble_text(teacher)), icon=":material/groups:")
        return
    view = cached_view(teacher, digit)
    if not view.blocks:
        text = no_maps_text(teacher.record.architecture, view, stands_in_for)
        st.info(words.link(text), icon=":material/grid_off:")
    else:
        names = [
            _("{block}: {height} x {width}").format(
                block=_(BLOCK_NAMES[block.tap]), height=block.shape[1], width=block.shape[2]
            )
            for block in view.blocks
        ]
        attention = [block.attention.tolist() for block in view.blocks]
        grids = [block.grid for block in view.blocks]
        figure = plots.attention_overlays(digit.tolist(), attention, grids, names)
        st.plotly_chart(with_source(figure, source), key="explorer.attention")
        st.markdown(words.link(attention_text(view.blocks)))
        maps = [(_(BLOCK_NAMES[block.tap]), block.channels, block.maps.tolist()) for block in view.blocks]
        st.plotly_chart(with_source(plots.channel_maps(maps), source), key="explorer.channels")
        st.markdown(words.link(channels_text(view.blocks)))
    if view.hidden is not None:
        st.markdown(words.link(hidden_text(view.hidden)))
