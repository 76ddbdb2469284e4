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
from kdlab.i18n import N_, _, ngettext, number
from kdlab.serve.series import SeedSeries
from kdlab.ui.lab_run import SERIES_KEY

HOW = {
    "cache": N_("trained earlier (cache)"),
    "joined": N_("followed another student's run"),
    "trained": N_("trained now"),
}
# A run record's status (``kdlab.runs.record``) as the table shows it.
STATUS = {"completed": N_("completed"), "stopped": N_("stopped"), "diverged": N_("diverged")}


def seed_rows(series: SeedSeries) -> list[dict]:
    """One row per seed: its errors alone and distilled, their difference, and where the result came from."""
    rows = []
    for seed, ticket in zip(series.seeds, series.tickets + [None] * (len(series.seeds) - len(series.tickets))):
        record = None if ticket is None else series.record(ticket)
        alone, distilled = (None, None) if record is None else (record.errors("baseline"), record.errors("distilled"))
        if ticket is None:
            result = _("waiting")
        else:
            status = _(STATUS.get(record.status, record.status)) if record else _("training")
            how = _(HOW[ticket.how]) if ticket.how in HOW else ""
            result = _("{status}, {how}").format(status=status, how=how) if how else status
        rows.append(
            {
                _("Seed"): seed,
                _("Run"): None if record is None else record.number,
                _("Student alone: errors"): alone,
                _("Distilled: errors"): distilled,
                _("Fewer errors distilled"): None if None in (alone, distilled) else alone - distilled,
                _("Result"): result,
            }
        )
    return rows


def comparison_text(paired: PairedSeeds, total: int) -> str:
    """The mean difference with its 95% paired interval, the wins and the verdict, as a student reads them."""
    mean, seeds, interval = paired.mean_difference, len(paired.seeds), paired.interval
    named = {
        "seeds": seeds,
        "total": total,
        "difference": number(abs(mean), 1),
        "wins": paired.wins,
        "verdict": _(paired.verdict),
    }
    if interval is not None:
        named |= {"low": number(interval[0], 1), "high": number(interval[1], 1)}
    if mean >= 0 and interval is not None:
        text = _(
            "Over {seeds} of {total} seeds the distilled student made {difference} fewer errors than the student alone "
            "on average (95% paired interval of the difference: {low} to {high}); distilled won in {wins} of {seeds} "
            "seeds: **{verdict}**."
        )
    elif mean >= 0:
        text = _(
            "Over {seeds} of {total} seeds the distilled student made {difference} fewer errors than the student alone "
            "on average; distilled won in {wins} of {seeds} seeds: **{verdict}**."
        )
    elif interval is not None:
        text = _(
            "Over {seeds} of {total} seeds the distilled student made {difference} more errors than the student alone "
            "on average (95% paired interval of the difference: {low} to {high}); distilled won in {wins} of {seeds} "
            "seeds: **{verdict}**."
        )
    else:
        text = _(
            "Over {seeds} of {total} seeds the distilled student made {difference} more errors than the student alone "
            "on average; distilled won in {wins} of {seeds} seeds: **{verdict}**."
        )
    return text.format(**named)


def render_seeds() -> None:
    """The session's seeds, when its press has several: the table, and the comparison once a seed has both
    students."""
    series: SeedSeries | None = st.session_state.get(SERIES_KEY)
    if series is None or series.press.seeds == 1:
        return
    st.divider()
    first, last = series.seeds[0], series.seeds[-1]
    st.subheader(
        _("Seeds {first} to {last}: is the gain bigger than the seed-to-seed spread?").format(first=first, last=last)
    )
    done = len(series.records())
    if series.halted:
        st.warning(
            _("**The seeds stopped after {done} of {total}**: {reason}.").format(
                done=done, total=len(series.seeds), reason=series.halted
            )
        )
    elif not series.finished:
        st.caption(
            ngettext(
                "{done} of {total} seed done; the next starts when the one in progress ends.",
                "{done} of {total} seeds done; the next starts when the one in progress ends.",
                len(series.seeds),
            ).format(done=done, total=len(series.seeds))
        )
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
        _(
            "Each seed trains both students from the same initial weights on the same batches, so the "
            "difference cancels the seed's luck; the interval is Student's t over the per-seed differences."
        )
    )
