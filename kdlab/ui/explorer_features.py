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
from kdlab.ml.feature_view import BlockView, FeatureView, HiddenView, feature_view
from kdlab.ml.features import BLOCK_TAPS, feature_shapes
from kdlab.ml.models import ARCHITECTURES
from kdlab.plots import features as plots
from kdlab.plots.style import with_source
from kdlab.teachers.teacher import Teacher

BLOCK_NAMES = dict(zip(BLOCK_TAPS, ("Block 1", "Block 2")))
VIEW_KEY = "explorer.features"  # the session's one view: (its teacher and digit, the view)
INTRO = (
    "The soft targets are what the teacher *says* about this digit. On the way there it computes features: in each "
    "conv block, feature maps (one per learned filter, bright where its pattern appears), then a last hidden layer "
    "the ten scores are computed from. KD copies only the outputs; feature-based distillation also copies the "
    "features (an attention map, or a hint layer through a small regressor), and relation-based distillation copies "
    "how the teacher places this digit among the others. Lesson 8 compares them."
)


def conv_teachers() -> list[str]:
    """The zoo's networks with conv blocks, whose maps the explorer can show."""
    return [name for name in ARCHITECTURES if BLOCK_TAPS[0] in feature_shapes(name)]


def region(row: float, column: float, size: int = 28) -> str:
    """Where a pixel lies on the digit, in words: "the top left", "the centre", "the right side"."""
    vertical = ("top", "middle", "bottom")[min(2, int(3 * row // size))]
    horizontal = ("left", "centre", "right")[min(2, int(3 * column // size))]
    if vertical == "middle":
        return "the centre" if horizontal == "centre" else f"the {horizontal} side"
    return f"the {vertical}" if horizontal == "centre" else f"the {vertical} {horizontal}"


def attention_text(blocks: tuple[BlockView, ...]) -> str:
    """The attention maps in words with their numbers: where each peaks on the digit and how concentrated it is."""
    lines = []
    for block in blocks:
        channels, height, width = block.shape
        row, column = block.peak
        y, x = block.pixel(row), block.pixel(column)
        cells, share = block.brightest_share()
        lines.append(
            f"**{BLOCK_NAMES[block.tap]}** ({channels} maps of {height} x {width}): its attention peaks at row "
            f"{row + 1}, column {column + 1} of its map, around pixel row {round(y) + 1}, column {round(x) + 1} of "
            f"the 28 x 28 digit ({region(y, x)}); the brightest {cells} of its {height * width} cells hold "
            f"{share:.0%} of the attention (spread evenly they would hold {cells / (height * width):.0%})."
        )
    return (
        " ".join(lines) + " An attention map sums each place's squared activations over all the block's maps: "
        "attention transfer trains a student's maps to light up where these do."
    )


def channels_text(blocks: tuple[BlockView, ...]) -> str:
    """The most active channels of each block in words, with their mean activations."""
    parts = [
        f"{BLOCK_NAMES[block.tap]}'s {len(block.channels)} most active of its {block.shape[0]} channels average "
        f"{float(block.activity[0]):.2f} (channel {block.channels[0]}) down to {float(block.activity[-1]):.2f} "
        f"(channel {block.channels[-1]})"
        for block in blocks
    ]
    return (
        "; ".join(parts) + ". Each map is drawn in its own range, dark at 0: a channel is one filter's answer to "
        '"where is my pattern?" (an edge, a stroke\'s end, a curve), and a different digit lights up different ones.'
    )


def hidden_text(hidden: HiddenView) -> str:
    """The last hidden layer in one line: its size and how many units fire for this digit."""
    return (
        f"**Its last hidden layer has {hidden.size:,} units; {hidden.active:,} of them fire** (are above 0) for this "
        f"digit ({hidden.active / hidden.size:.0%}), the strongest (unit {hidden.strongest}) at "
        f"{hidden.strongest_value:.2f}. The ten scores are a weighted sum of these {hidden.size:,} numbers: hints copy "
        "them through a regressor, RKD and SP copy how they place digits relative to each other."
    )


def no_maps_text(architecture: str, view: FeatureView, stands_in_for: str | None = None) -> str:
    """Why a network without conv blocks shows no maps, what it has instead, and where to see maps: the chosen
    teacher's, when ``architecture`` only stands in for it while it trains, else a teacher with conv blocks."""
    convolutional = conv_teachers()
    if stands_in_for in convolutional:
        then = f"The teacher you chose, {stands_in_for}, has conv blocks: its maps show here when it is ready."
    else:
        then = f"Choose a teacher with conv blocks ({', '.join(convolutional)}) to see its maps."
    if view.hidden is None:
        return (
            f"**{architecture} has no feature maps and no hidden layer:** its ten scores are weighted sums of the "
            "pixels, with nothing computed in between, so only its outputs (the soft targets above) can be "
            f"distilled. {then}"
        )
    return (
        f"**{architecture} has no feature maps to show: it has no conv blocks.** Its layers are fully connected, each "
        "unit looking at the whole digit at once, so there is no map of places to attend to, and attention transfer "
        f"does not apply. {then}"
    )


def ensemble_text(teacher: Teacher) -> str:
    """Why an ensemble shows no features."""
    members = ", ".join(member.record.architecture for member in teacher.members)
    return (
        f"**An ensemble has no one set of features:** each of its {len(teacher.members)} networks ({members}) "
        "computes its own, and only their softened outputs are averaged. So feature- and relation-based methods "
        "need one teacher network: choose one to see its features."
    )


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
    st.subheader(f"What the {noun}'s features hold")
    st.markdown(words.link(INTRO))
    if teacher.is_ensemble:
        st.info(words.link(ensemble_text(teacher)), icon=":material/groups:")
        return
    view = cached_view(teacher, digit)
    if not view.blocks:
        text = no_maps_text(teacher.record.architecture, view, stands_in_for)
        st.info(words.link(text), icon=":material/grid_off:")
    else:
        names = [f"{BLOCK_NAMES[block.tap]}: {block.shape[1]} x {block.shape[2]}" for block in view.blocks]
        attention = [block.attention.tolist() for block in view.blocks]
        grids = [block.grid for block in view.blocks]
        figure = plots.attention_overlays(digit.tolist(), attention, grids, names)
        st.plotly_chart(with_source(figure, source), key="explorer.attention")
        st.markdown(words.link(attention_text(view.blocks)))
        maps = [(BLOCK_NAMES[block.tap], block.channels, block.maps.tolist()) for block in view.blocks]
        st.plotly_chart(with_source(plots.channel_maps(maps), source), key="explorer.channels")
        st.markdown(words.link(channels_text(view.blocks)))
    if view.hidden is not None:
        st.markdown(words.link(hidden_text(view.hidden)))
