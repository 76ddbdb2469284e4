"""What a replay declares (``Replay``) and each teacher it trains (``ReplayTeacher``).

A replay module builds one ``Replay`` (``missing_digits`` two) and ``registry.REPLAYS`` lists them; the command
line, the replay page, ``kdlab prepare``, the gate's cost and the cards read the entry, never the name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kdlab.i18n import _
from kdlab.ml.data import MnistData


@dataclass(frozen=True)
class ReplayTeacher:
    """A teacher a replay trains and caches: what ``kdlab prepare`` trains before class."""

    name: str  # an architecture or an ensemble (``ensemble:cnn*3``)
    epochs: int
    seed: int
    jitter_pixels: int
    data: MnistData = field(compare=False, repr=False)  # what it learns from: a small labelled set for an ensemble


@dataclass(frozen=True)
class Replay:
    """One replay of a paper's experiment: its words, the paper's numbers, its config and its run.

    ``config(budget, **settings)`` builds its frozen config at a named budget, settings flat
    (``seed=3``); ``run(config, data, *, on_event, stop, cache_dir, device, ...)`` trains for real and
    returns a ``ReplayResult``; ``teachers(config, data)`` the teachers that config trains, each cached;
    ``cost(config, data)`` the students' work, in the units of ``kdlab.teachers.ensembles.training_cost``.
    """

    name: str  # the command line's ``replay <name>``, the page's ``?replay=<name>``, the summary's "replay"
    title: str  # the page's tab and the summary's "title" (marked ``N_``, translated where shown)
    source: str  # the paper, as it is cited
    paper_numbers: Mapping[str, Any]  # what the paper reports (or claims in words), the summary's "paper"
    # What the replay shows, in Markdown (the top of its tab), and the paper's numbers in one caption: messages
    # marked ``N_`` whose ``{placeholders}`` ``text_values`` fills where shown (``shown_intro``, ``shown_paper_line``).
    intro: str
    paper_line: str
    config: Callable[..., Any]
    run: Callable[..., Any]
    teachers: Callable[[Any, MnistData], tuple[ReplayTeacher, ...]]
    cost: Callable[[Any, MnistData], float]
    # The command line's options it takes beyond --budget and --seed, each with what it means here
    # (``--teacher``, ``--student``, ``--fresh``); the option's help joins them.
    options: Mapping[str, str] = field(default_factory=dict)
    # The summary of several seeds' summaries (spreads, paired comparisons), for a replay that compares
    # settings; None: ``--seeds`` does not apply.
    over_seeds: Callable[[list[dict]], dict] | None = None
    # How many seeds a run repeats unless told (the command line's --seeds, the page's Seeds slider); above 1 only
    # with ``over_seeds``.
    seeds: int = 1
    # What each budget means for this replay, where the shared budget note does not say it (its tab's caption).
    budget_notes: Mapping[str, str] = field(default_factory=dict)
    run_labels: Mapping[str, str] = field(default_factory=dict)  # its run names in words, where not a role's
    # The values of ``intro``'s and ``paper_line``'s placeholders, made when shown (numbers in the current language).
    text_values: Callable[[], Mapping[str, Any]] = dict

    def shown_intro(self) -> str:
        """``intro`` in the current language, its placeholders filled."""
        return _(self.intro).format(**self.text_values())

    def shown_paper_line(self) -> str:
        """``paper_line`` in the current language, its placeholders filled (the papers' titles as published)."""
        return _(self.paper_line).format(**self.text_values())
