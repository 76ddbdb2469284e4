"""The replay registry: every replay is one entry of ``REPLAYS``, and the command line, the page's renderers and
links, ``kdlab prepare`` and the gate's cost follow it."""

import argparse

import pytest

from kdlab.classroom.links import parse_replay_link
from kdlab.classroom.prepare import default_teachers
from kdlab.cli import replay as replay_command
from kdlab.experiments.replays import REPLAYS, get_replay, replay_config
from kdlab.experiments.replays.registry import seeded_replays
from kdlab.serve.gate import replay_cost
from kdlab.ui.replays import RENDERERS


def test_every_replay_has_a_renderer_and_every_renderer_a_replay():
    assert list(RENDERERS) == list(REPLAYS)


def test_every_replay_is_complete():
    for name, replay in REPLAYS.items():
        assert replay.name == name and replay.title and replay.intro and replay.paper_line
        assert replay.paper_numbers, f"{name} has no paper numbers"
        config = replay.config("quick")
        assert type(replay_config(name, "quick")) is type(config)
    assert len({replay.title for replay in REPLAYS.values()}) == len(REPLAYS)  # a title opens a tab by URL
    assert REPLAYS["omit-3"].paper_numbers["bias"] == 3.5


def test_an_unknown_replay_names_the_known_ones():
    with pytest.raises(ValueError, match="choose one of table, omit-3"):
        get_replay("omit-9")


def test_the_command_line_offers_exactly_the_registered_replays_and_their_options():
    parser = argparse.ArgumentParser()
    replay_command.add_arguments(parser)
    actions = {action.dest: action for action in parser._actions}
    assert tuple(actions["name"].choices) == tuple(REPLAYS)
    for option in ("teacher", "student", "fresh"):
        takers = [name for name, replay in REPLAYS.items() if option in replay.options]
        assert takers and all(f"{name}: " in actions[option].help for name in takers)
    assert seeded_replays() == (
        "temperature-width",
        "decoupled",
        "knowledge",
        "temperature-schedules",
        "stronger-teacher",
    )
    assert actions["seeds"].help.startswith(
        "temperature-width, decoupled, knowledge, temperature-schedules, stronger-teacher: "
    )
    assert actions["seeds"].help.endswith(
        "(default: temperature-width 1, decoupled 1, knowledge 3, temperature-schedules 3, stronger-teacher 3)"
    )
    assert all(replay.seeds == 1 or replay.over_seeds is not None for replay in REPLAYS.values())
    assert replay_command.command_help().endswith(
        "knowledge (Tian et al. 2020), temperature-schedules (Hinton et al. 2015), stronger-teacher (Huang et al. 2022)"
    )


def test_a_link_opens_every_registered_replay_and_no_other():
    for name in REPLAYS:
        assert parse_replay_link({"replay": name}).values["replay"] == name
    assert "replay" not in parse_replay_link({"replay": "omit-9"}).values


def test_prepare_trains_every_replays_quick_teachers_and_the_gate_costs_each(sample_data):
    users = {user for need in default_teachers(sample_data) for user in need.users}
    for name, replay in REPLAYS.items():
        if replay.teachers(replay.config("quick"), sample_data):
            assert f"replay {name}" in users
        assert replay_cost(name, "quick", sample_data) > 0
