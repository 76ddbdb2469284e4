"""The Runs page: every lab run of this student (from the database) in a table; overlay curves; download CSV,
JSON, weights and ONNX of the student's own runs only."""

from __future__ import annotations

import streamlit as st

from kdlab.db.database import StorageError
from kdlab.plots import lab as plots
from kdlab.runs.export import run_json, runs_csv
from kdlab.runs.record import RunRecord
from kdlab.runs.store import RunStore
from kdlab.ui.downloads import notebook_download, onnx_download
from kdlab.ui.lab_run import current_ticket, is_busy, stop_or_leave
from kdlab.ui.progress import follow_job
from kdlab.ui.results import render_run_result
from kdlab.ui.session import session_runs, unsaved_runs
from kdlab.ui.widgets import page_link

SOURCES = {"trained": "trained", "joined": "followed live", "cache": "from the cache"}


def percent(label: str):
    return st.column_config.NumberColumn(label, format="percent")


def load_runs(store: RunStore, unsaved: RunStore) -> list[RunRecord]:
    """The student's runs, oldest first, with this tab's unsaved ones; says what was cut off or not saved."""
    ticket = current_ticket(store)
    if is_busy(ticket):
        st.info(f"{ticket.job.name} is in progress; it appears here when it ends.")
        follow_job(ticket.job, key="runs.progress", on_stop=stop_or_leave(ticket.run_id))

    try:
        records, cut_off = store.records(), store.interrupted()
    except StorageError as error:
        st.error(f"**Your saved runs cannot be shown right now.** {error}")
        records, cut_off = [], []
    if cut_off:
        numbers = ", ".join(str(run.number) for run in cut_off)
        which = f"Run {numbers} was" if len(cut_off) == 1 else f"Runs {numbers} were"
        st.warning(
            f"{which} cut off by a server restart, with no result; the lab lists the settings to train again.",
            icon=":material/restart_alt:",
        )
        page_link("pages/distillation_lab.py", "Distillation lab", ":material/science:")
    if unsaved is not store and unsaved.records():
        st.warning("Runs marked 'not saved' could not be stored on the server; they are in this tab only.")
        records = sorted(records + unsaved.records(), key=lambda record: record.created_at)
    return records


def render_table(records: list[RunRecord], unsaved: RunStore) -> None:
    """The runs as a table (each marked trained, followed live, from the cache or not saved), and as CSV."""
    rows = [record.table_row() for record in records]
    saved = {record.run_id for record in records} - {record.run_id for record in unsaved.records()}
    for row, record in zip(rows, records):
        row["source"] = SOURCES.get(row["source"], row["source"]) if record.run_id in saved else "not saved"
    st.dataframe(
        rows,
        hide_index=True,
        key="runs.table",
        column_config={
            "run": st.column_config.NumberColumn("run", format="%d"),
            "learning_rate": st.column_config.NumberColumn("learning rate", format="%g"),
            "batch_size": "batch",
            "train_images": "training images",
            "teacher_accuracy": percent("teacher"),
            "baseline_accuracy": percent("student alone"),
            "distilled_accuracy": percent("distilled"),
            "teacher_errors": "teacher errors",
            "baseline_errors": "alone: errors",
            "distilled_errors": "distilled: errors",
            "errors_saved": st.column_config.NumberColumn(
                "errors saved", help="Errors of the student alone minus errors of the distilled student."
            ),
            "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
            "source": st.column_config.TextColumn(
                "how", help="Trained for you, followed live with other students, or from the cache (trained earlier)."
            ),
        },
    )
    st.download_button(
        "Download the table (CSV)",
        runs_csv(records),
        file_name="kdlab-runs.csv",
        mime="text/csv",
        key="runs.csv",
        icon=":material/download:",
        on_click="ignore",
    )


def render_overlay(by_id: dict[str, RunRecord]) -> None:
    """The chosen runs' curves in one chart."""
    chosen = st.multiselect(
        "Runs to overlay",
        list(by_id),
        default=list(by_id)[-3:],
        key="runs.overlay",
        format_func=lambda run_id: by_id[run_id].label,
    )
    if chosen:
        st.plotly_chart(
            plots.runs_overlay([(by_id[run_id].label, by_id[run_id].curves) for run_id in chosen]),
            key="runs.overlay_chart",
        )
        st.caption(
            "Colour shows the role (blue: distilled student, grey: student alone); the line style shows the run."
        )


def render_detail(by_id: dict[str, RunRecord], store: RunStore, unsaved: RunStore) -> None:
    """One run: its JSON, its student's weights (the student's own runs only), its result and notebook."""
    run_id = st.selectbox(
        "Run", list(reversed(list(by_id))), key="runs.detail", format_func=lambda run_id: by_id[run_id].label
    )
    try:  # the weights come from the database only for the run shown, and only the student's own
        record = store.get(run_id) or unsaved.get(run_id) or by_id[run_id]
    except StorageError as error:
        st.error(f"**This run's weights cannot be loaded right now.** {error}")
        record = by_id[run_id]
    json_column, weights_column, onnx_column = st.columns(3)
    json_column.download_button(
        "Download this run (JSON)",
        lambda record=record: run_json(record),
        file_name=f"kdlab-run{record.number}.json",
        mime="application/json",
        key="runs.json",
        icon=":material/download:",
        on_click="ignore",
    )
    if record.student_weights is not None:
        weights_column.download_button(
            f"Download the distilled student's weights ({len(record.student_weights) / 1e6:.1f} MB)",
            lambda blob=record.student_weights: blob,
            file_name=f"kdlab-run{record.number}-{record.config['student']}.pt",
            mime="application/octet-stream",
            key="runs.weights",
            icon=":material/download:",
            on_click="ignore",
            help="A PyTorch state_dict: model = kdlab.ml.models.build_model(name); "
            "model.load_state_dict(torch.load(file, weights_only=True))",
        )
        onnx_download(record, key="runs.onnx", container=onnx_column)
    else:
        weights_column.caption(
            "The weights of this run were not kept: the server keeps those of your last few runs, "
            "or the run stopped before the student trained."
        )
    render_run_result(record, key=f"runs.result.{record.run_id}")
    notebook_download(record, key="runs.notebook")  # every run also goes home as a notebook


def render_runs_page() -> None:
    """The Runs page below its introduction."""
    store = session_runs()
    unsaved = unsaved_runs()
    records = load_runs(store, unsaved)
    if not records:
        st.info("No runs yet. Go to the lab and press Train.")
        page_link("pages/distillation_lab.py", "Distillation lab", ":material/science:")
        return
    render_table(records, unsaved)
    st.subheader("Compare curves")
    by_id = {record.run_id: record for record in records}
    render_overlay(by_id)
    st.subheader("One run in detail")
    render_detail(by_id, store, unsaved)
