"""The scheme comparison on a page: the overview chart, then one tab per scheme with its
numbers against both references, its runs and its curves."""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.schemes import SCHEME_TITLES, SchemeComparison
from kdlab.plots import schemes as scheme_plots


def render_comparison(comparison: SchemeComparison, key: str) -> None:
    """A finished (or stopped) comparison; ``key`` namespaces the charts."""
    summary = comparison.summary()
    budget = summary["budget"]
    if summary["status"] != "completed":
        st.warning(
            f"The comparison was **{summary['status']}** before it finished: the charts show the runs that completed."
        )
    st.caption(
        f"Every run: {budget['epochs_per_run']} epochs on the same {budget['train_size']:,} images of "
        f"{summary['data']['label']}, seed {budget['seed']}, so every student starts from the same weights "
        f"and sees the same batches. Total time {summary['seconds']:.0f} s."
    )
    if summary["student_alone"] is None or summary["offline_kd"] is None:
        return
    st.plotly_chart(scheme_plots.schemes_overview_figure(summary), key=f"{key}.overview")
    names = list(summary["schemes"])
    for tab, name in zip(st.tabs([SCHEME_TITLES[name] for name in names]), names):
        with tab:
            _render_scheme(summary, name, key)


def _render_scheme(summary: dict, name: str, key: str) -> None:
    entry = summary["schemes"][name]
    st.markdown(entry["description"])
    st.caption(entry["paper"])
    final = entry["final"]
    if final is None:
        return
    columns = st.columns(3)
    columns[0].metric(
        f"{final['label']} ({final['arch']})",
        f"{final['test_accuracy']:.2%}",
        delta=f"{final['test_errors']:,} errors",
        delta_color="off",
        delta_arrow="off",
    )
    columns[1].metric(
        "vs the student alone", f"{entry['vs_student_alone_errors']:+,} errors", delta_color="off", delta_arrow="off"
    )
    columns[2].metric(
        "vs offline KD",
        f"{entry['vs_offline_kd_errors']:+,} errors",
        delta_color="off",
        delta_arrow="off",
        help=f"The scheme cost {entry['extra_training_runs']} training run(s) of the budget beyond the two references.",
    )
    charts = st.columns(2)
    with charts[0]:
        st.plotly_chart(scheme_plots.scheme_figure(summary, name), key=f"{key}.{name}.bars")
    with charts[1]:
        st.plotly_chart(scheme_plots.scheme_curves_figure(summary, name), key=f"{key}.{name}.curves")
