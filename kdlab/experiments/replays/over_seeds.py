"""The replays that compare settings (temperature-width, decoupled) repeated at seeds s, s + 1, ...:
each number with its spread over the seeds, and which differences are bigger than that spread.

Each seed runs the whole replay (its own transfer set, initial weights and batches), and within one
seed every student shares them, so each comparison is paired by seed (``PairedSeeds``): a difference
whose 95% t-interval leaves out 0 is bigger than the seed-to-seed spread. A replay's ``Replay.over_seeds``
is its summary here; ``kdlab.experiments.replays.registry.run_over_seeds`` runs the seeds.
"""

from __future__ import annotations

import math
from dataclasses import replace

from kdlab.experiments.seeds import MAX_SEEDS, PairedSeeds, t_interval
from kdlab.i18n import _, ngettext


def seeded_configs(config, seeds: int) -> list:
    """``config`` at its seed and the ``seeds - 1`` after it.

    Raises:
        ValueError: ``seeds`` is not 1 to ``MAX_SEEDS``.
    """
    if not 1 <= seeds <= MAX_SEEDS:
        raise ValueError(f"Repeat a replay at 1 to {MAX_SEEDS} seeds (got {seeds}).")
    first = config.training.seed
    return [replace(config, training=replace(config.training, seed=first + offset)) for offset in range(seeds)]


def spread(values: list[float]) -> dict:
    """A number over seeds: each value, the mean, the sample standard deviation and the 95% t-interval."""
    mean = sum(values) / len(values)
    deviation = math.sqrt(sum((value - mean) ** 2 for value in values) / (len(values) - 1)) if len(values) > 1 else None
    interval = t_interval(values)
    return {
        "values": values,
        "mean": round(mean, 2),
        "sd": None if deviation is None else round(deviation, 2),
        "interval_95": None if interval is None else [round(interval[0], 2), round(interval[1], 2)],
    }


def paired(name: str, than: str, seeds: tuple[int, ...], reference: list[int], other: list[int]) -> dict:
    """``other`` against ``reference``, paired by seed: fewer errors above 0, the interval and the verdict."""
    summary = PairedSeeds(seeds, tuple(reference), tuple(other)).summary()
    interval = summary["interval_95"]
    bigger = interval is not None and (interval[0] > 0 or interval[1] < 0)
    return {
        "comparison": f"{name} vs {than}",
        "fewer_errors": summary["mean_difference"],
        "interval_95": interval,
        "bigger_than_spread": bigger,
        "wins": summary["wins"].replace("distilled", name),
    }


def listed(words: list[str]) -> str:
    """ "A, B and C": ``words`` as a list in words, in the current language."""
    if len(words) < 2:
        return "".join(words)
    return _("{items} and {last}").format(items=", ".join(words[:-1]), last=words[-1])


def paired_verdict(alone: dict[str, dict], against: dict[str, dict], names, reference: str) -> list[str]:
    """The sentences a verdict reads from paired intervals (each a ``paired`` row, by run): which runs beat the
    student alone (``alone``) and which differ from the ``reference`` run (``against``; its words, e.g. "KD") by
    more than the seed-to-seed spread, and which are within it. ``names(runs)`` puts runs in words."""
    helped = [run for run, row in alone.items() if row["bigger_than_spread"] and row["fewer_errors"] > 0]
    hurt = [run for run, row in alone.items() if row["bigger_than_spread"] and row["fewer_errors"] < 0]
    better = [run for run, row in against.items() if row["bigger_than_spread"] and row["fewer_errors"] > 0]
    worse = [run for run, row in against.items() if row["bigger_than_spread"] and row["fewer_errors"] < 0]
    within = [run for run in against if run not in better and run not in worse]
    sentences = []
    if helped:
        sentences.append(
            _("{runs} beat the student alone by more than the seed-to-seed spread.").format(runs=names(helped))
        )
    else:
        sentences.append(_("Nothing beats the student alone by more than the seed-to-seed spread."))
    if hurt:
        sentences.append(_("{runs} did worse than the student alone, beyond the spread.").format(runs=names(hurt)))
    if better:
        sentences.append(
            _("{runs} beat {reference} beyond the spread.").format(runs=names(better), reference=reference)
        )
    else:
        sentences.append(_("No method beats {reference} by more than the spread.").format(reference=reference))
    if worse:
        sentences.append(
            _("{runs} did worse than {reference}, beyond the spread.").format(runs=names(worse), reference=reference)
        )
    if within:
        sentences.append(
            ngettext(
                "{runs} is within the spread of {reference}: its interval holds 0, so these seeds cannot tell it "
                "from {reference}.",
                "{runs} are within the spread of {reference}: their intervals hold 0, so these seeds cannot tell "
                "them from {reference}.",
                len(within),
            ).format(runs=names(within), reference=reference)
        )
    return sentences


def decoupled_seeds(summaries: list[dict]) -> dict:
    """The decoupled replay over seeds: every student's errors with their spread; each loss against the
    student alone and against KD, paired by seed."""
    seeds = tuple(summary["config"]["seed"] for summary in summaries)
    errors = {
        run: [summary["ours"][f"{run}_errors"] for summary in summaries]
        for run in ("baseline", "kd", "tckd", "nckd", "dkd")
    }
    comparisons = [
        paired(run, "alone", seeds, errors["baseline"], errors[run]) for run in ("kd", "tckd", "nckd", "dkd")
    ]
    comparisons += [paired(run, "kd", seeds, errors["kd"], errors[run]) for run in ("tckd", "nckd", "dkd")]
    return {
        "seeds": list(seeds),
        "errors": {run: spread(values) for run, values in errors.items()},
        "comparisons": comparisons,
    }


def temperature_width_seeds(summaries: list[dict]) -> dict:
    """The temperature-width grid over seeds: each cell's errors with their spread; per width, each
    temperature against the student alone and against the width's best temperature, paired by seed."""
    seeds = tuple(summary["config"]["seed"] for summary in summaries)
    cells: dict[tuple, list[int]] = {}
    for summary in summaries:
        for cell in summary["grid"]:
            cells.setdefault((cell["width"], cell["temperature"]), []).append(cell["test_errors"])
    cells = {key: values for key, values in cells.items() if len(values) == len(seeds)}
    grid = [
        {"width": width, "temperature": temperature, "errors": spread(values)}
        for (width, temperature), values in cells.items()
    ]
    comparisons = []
    for width in sorted({width for width, _temperature in cells}):
        temperatures = [t for w, t in cells if w == width and t is not None]
        if not temperatures:
            continue
        best = min(temperatures, key=lambda t: (sum(cells[(width, t)]), t))
        for temperature in temperatures:
            name = f"width {width}, T = {temperature:g}"
            if (width, None) in cells:
                comparisons.append(paired(name, "alone", seeds, cells[(width, None)], cells[(width, temperature)]))
            if temperature != best:
                than = f"T = {best:g} (the best on average)"
                comparisons.append(paired(name, than, seeds, cells[(width, best)], cells[(width, temperature)]))
    return {"seeds": list(seeds), "grid": grid, "comparisons": comparisons}


def comparison_line(row: dict) -> str:
    """ "nckd vs alone: 186 fewer errors, 95% interval [151, 221]: bigger than the seed-to-seed spread"."""
    fewer = row["fewer_errors"]
    words = f"{abs(fewer):g} {'fewer' if fewer >= 0 else 'more'} errors"
    interval = row["interval_95"]
    verdict = "bigger than the seed-to-seed spread" if row["bigger_than_spread"] else "within the seed-to-seed spread"
    return f"{row['comparison']}: {words}, 95% interval [{interval[0]:g}, {interval[1]:g}]: {verdict} ({row['wins']})"
