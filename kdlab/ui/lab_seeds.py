"""A press of Train at several seeds, seen: a row per seed and the result, distilled against alone at
every seed with the paired 95% interval, in words.

The press itself starts and advances like any other (``kdlab.ui.lab_run.start_press``, ``advance_press``):
the session's ``SeedSeries`` (``SERIES_KEY``), whose newest seed is the lab's ticket, so the live view and
the result below are the ones of a single run. Each seed's record is a run of the student's like any
other (Runs page).
"""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.seeds import PairedSeeds
from kdlab.serve.series import SeedSeries
from kdlab.ui.lab_run import SERIES_KEY

HOW = {"cache": "trained earlier (cache)", "joined": "followed another student's run", "trained": "trained now"}


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
    """The session's seeds, when its press has several: the table, and the comparison once a seed has both
    students."""
    series: SeedSeries | None = st.session_state.get(SERIES_KEY)
    if series is None or series.press.seeds == 1:
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
