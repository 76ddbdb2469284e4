"""The lab's Train at several seeds: the seeds one after another (``kdlab.serve.series``), and their
result, distilled against alone at every seed with the paired 95% interval, in words.

The series lives in the session beside the lab's ticket (``TICKET_KEY`` is always its newest seed, so the
live view and the result below are the ones of a single run); every page run starts the next seed once
the one before has its result. Each seed's record is a run of the student's like any other (Runs page).
"""

from __future__ import annotations

import streamlit as st

from kdlab.db.database import StorageError
from kdlab.experiments.seeds import PairedSeeds
from kdlab.ml.data import MnistData
from kdlab.runs.store import RunStore
from kdlab.serve.jobs import default_runner
from kdlab.serve.lab import LabTicket
from kdlab.serve.request import TrainRequest
from kdlab.serve.series import SeedSeries, advance_series, start_series
from kdlab.teachers.teacher import Teacher
from kdlab.ui.client import client_address
from kdlab.ui.lab import LEFT_KEY, PREDICTIONS_KEY, TICKET_KEY
from kdlab.ui.resources import cached_teacher
from kdlab.ui.session import remember_job, session_owner

SERIES_KEY = "lab.series"  # the session's SeedSeries, while its newest seed is the lab's ticket
HOW = {"cache": "trained earlier (cache)", "joined": "followed another student's run", "trained": "trained now"}


def start_seeds(request: TrainRequest, data: MnistData, store: RunStore, *, teacher: Teacher | None) -> bool:
    """Press Train with a request of several seeds: the first seed starts (cached ones come at once).
    Shows an error and returns False when the seeds cannot start."""
    try:
        series = start_series(
            default_runner(), request, data, store, owner=session_owner(), client=client_address(), teacher=teacher
        )
    except (ValueError, StorageError) as error:  # the cap over all seeds, a full queue, a busy database
        st.error(f"**The runs cannot start.** {error}")
        return False
    st.session_state[SERIES_KEY] = series
    if request.prediction is not None:
        st.session_state.setdefault(PREDICTIONS_KEY, {})[series.tickets[0].run_id] = request.prediction
    _follow(series.tickets[-1])
    return True


def forget_seeds() -> None:
    """A press of Train at one seed: the seeds of an earlier press are no longer the lab's run."""
    st.session_state.pop(SERIES_KEY, None)


def advance_seeds(data: MnistData) -> None:
    """Start the session's next seed if the one before has its result (before the page decides whether
    Train is busy); a series whose newest seed is no longer the lab's run is forgotten."""
    series: SeedSeries | None = st.session_state.get(SERIES_KEY)
    if series is None or series.finished:
        return
    ticket = st.session_state.get(TICKET_KEY)
    if ticket is not series.tickets[-1]:  # the student pressed "Train it again live", say
        forget_seeds()
        return
    if ticket.run_id in st.session_state.get(LEFT_KEY, ()):
        series.halted = "you left the run"
        return
    teacher = cached_teacher(series.request.config.teacher)
    started = advance_series(
        series, default_runner(), data, owner=session_owner(), client=client_address(), teacher=teacher
    )
    if started is not None:
        _follow(started)


def _follow(ticket: LabTicket) -> None:
    st.session_state[TICKET_KEY] = ticket
    if ticket.job is not None:
        remember_job("lab", ticket.job)


def seed_rows(series: SeedSeries) -> list[dict]:
    """One row per seed: its errors alone and distilled, their difference, and where the result came from."""
    rows = []
    for seed, ticket in zip(series.seeds, series.tickets + [None] * (len(series.seeds) - len(series.tickets))):
        record = None if ticket is None else series.record(ticket)
        alone, distilled = (None, None) if record is None else (record.errors("baseline"), record.errors("distilled"))
        rows.append(
            {
                "Seed": seed,
                "Run": None if record is None else record.number,
                "Student alone: errors": alone,
                "Distilled: errors": distilled,
                "Fewer errors distilled": None if None in (alone, distilled) else alone - distilled,
                "Result": "waiting"
                if ticket is None
                else (record.status if record else "training") + (f", {HOW[ticket.how]}" if ticket.how in HOW else ""),
            }
        )
    return rows


def comparison_text(paired: PairedSeeds, total: int) -> str:
    """The mean difference with its 95% paired interval, the wins and the verdict, as a student reads them."""
    mean = paired.mean_difference
    more_or_fewer = "fewer" if mean >= 0 else "more"
    text = (
        f"Over {len(paired.seeds)} of {total} seeds the distilled student made {abs(mean):.1f} {more_or_fewer} errors"
    )
    text += " than the student alone on average"
    interval = paired.interval
    if interval is not None:
        text += f" (95% paired interval of the difference: {interval[0]:.1f} to {interval[1]:.1f})"
    return f"{text}; distilled won in {paired.wins} of {len(paired.seeds)} seeds: **{paired.verdict}**."


def render_seeds() -> None:
    """The session's seeds: the table, and the comparison once a seed has both students."""
    series: SeedSeries | None = st.session_state.get(SERIES_KEY)
    if series is None:
        return
    st.divider()
    first, last = series.seeds[0], series.seeds[-1]
    st.subheader(f"Seeds {first} to {last}: is the gain bigger than the seed-to-seed spread?")
    done = len(series.records())
    if series.halted:
        st.warning(f"**The seeds stopped after {done} of {len(series.seeds)}**: {series.halted}.")
    elif not series.finished:
        st.caption(f"{done} of {len(series.seeds)} seeds done; the next starts when the one in progress ends.")
    st.dataframe(seed_rows(series), hide_index=True)
    paired = series.paired()
    if paired is None:
        return
    text = comparison_text(paired, len(series.seeds))
    if paired.interval is not None and paired.interval[0] > 0:
        st.success(text, icon=":material/check_circle:")
    else:
        st.info(text)
    st.caption(
        "Each seed trains both students from the same initial weights on the same batches, so the "
        "difference cancels the seed's luck; the interval is Student's t over the per-seed differences."
    )
