"""The Runs page: every lab run of this student (from the database) in a table; overlay curves; download CSV,
JSON, weights and ONNX of the student's own runs only."""

from __future__ import annotations

import streamlit as st

from kdlab.db.database import StorageError
from kdlab.i18n import N_, _, ngettext, number
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

SOURCES = {"trained": N_("trained"), "joined": N_("followed live"), "cache": N_("from the cache")}
STATUSES = {"completed": N_("completed"), "stopped": N_("stopped"), "diverged": N_("diverged")}


def percent_column(label: str):
    return st.column_config.NumberColumn(label, format="percent")


def load_runs(store: RunStore, unsaved: RunStore) -> list[RunRecord]:
    """The student's runs, oldest first, with this tab's unsaved ones; says what was cut off or not saved."""
    ticket = current_ticket(store)
    if is_busy(ticket):
        st.info(_("{run} is in progress; it appears here when it ends.").format(run=ticket.job.name))
        follow_job(ticket.job, key="runs.progress", on_stop=stop_or_leave(ticket.run_id))

    try:
        records, cut_off = store.records(), store.interrupted()
    except StorageError as error:
        st.error(_("**Your saved runs cannot be shown right now.** {error}").format(error=error))
        records, cut_off = [], []
    if cut_off:
        numbers = ", ".join(str(run.number) for run in cut_off)
        st.warning(
            ngettext(
                "Run {numbers} was cut off by a server restart, with no result; the lab lists the settings to "
                "train again.",
                "Runs {numbers} were cut off by a server restart, with no result; the lab lists the settings to "
                "train again.",
                len(cut_off),
            ).format(numbers=numbers),
            icon=":material/restart_alt:",
        )
        page_link("pages/distillation_lab.py", _("Distillation lab"), ":material/science:")
    if unsaved is not store and unsaved.records():
        st.warning(
            _("Runs marked '{not_saved}' could not be stored on the server; they are in this tab only.").format(
                not_saved=_("not saved")
            )
        )
        records = sorted(records + unsaved.records(), key=lambda record: record.created_at)
    return records


def render_table(records: list[RunRecord], unsaved: RunStore) -> None:
    """The runs as a table (each marked trained, followed live, from the cache or not saved), and as CSV."""
    rows = [record.table_row() for record in records]
    saved = {record.run_id for record in records} - {record.run_id for record in unsaved.records()}
    for row, record in zip(rows, records):
        status, source = row["status"], row["source"]  # English in the record and its CSV; shown translated
        row["status"] = _(STATUSES.get(status, status))
        row["source"] = _(SOURCES.get(source, source)) if record.run_id in saved else _("not saved")
    st.dataframe(
        rows,
        hide_index=True,
        key="runs.table",
        column_config={
            "run": st.column_config.NumberColumn(_("run"), format="%d"),
            "time": _("time"),
            "status": _("status"),
            "teacher": _("teacher"),
            "student": _("student"),
            "alpha": "α",
            "epochs": _("epochs"),
            "seed": _("seed"),
            "data": _("data"),
            "learning_rate": st.column_config.NumberColumn(_("learning rate"), format="%g"),
            "batch_size": _("batch"),
            "train_images": _("training images"),
            "teacher_accuracy": percent_column(_("teacher")),
            "baseline_accuracy": percent_column(_("student alone")),
            "distilled_accuracy": percent_column(_("distilled")),
            "teacher_errors": _("teacher errors"),
            "baseline_errors": _("alone: errors"),
            "distilled_errors": _("distilled: errors"),
            "errors_saved": st.column_config.NumberColumn(
                _("errors saved"), help=_("Errors of the student alone minus errors of the distilled student.")
            ),
            "seconds": st.column_config.NumberColumn(_("seconds"), format="%.1f"),
            "source": st.column_config.TextColumn(
                _("how"),
                help=_("Trained for you, followed live with other students, or from the cache (trained earlier)."),
            ),
        },
    )
    st.download_button(
        _("Download the table (CSV)"),
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
        _("Runs to overlay"),
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
            _("Colour shows the role (blue: distilled student, grey: student alone); the line style shows the run.")
        )


def render_detail(by_id: dict[str, RunRecord], store: RunStore, unsaved: RunStore) -> None:
    """One run: its JSON, its student's weights (the student's own runs only), its result and notebook."""
    run_id = st.selectbox(
        _("Run"), list(reversed(list(by_id))), key="runs.detail", format_func=lambda run_id: by_id[run_id].label
    )
    try:  # the weights come from the database only for the run shown, and only the student's own
        record = store.get(run_id) or unsaved.get(run_id) or by_id[run_id]
    except StorageError as error:
        st.error(_("**This run's weights cannot be loaded right now.** {error}").format(error=error))
        record = by_id[run_id]
    json_column, weights_column, onnx_column = st.columns(3)
    json_column.download_button(
        _("Download this run (JSON)"),
        lambda record=record: run_json(record),
        file_name=f"kdlab-run{record.number}.json",
        mime="application/json",
        key="runs.json",
        icon=":material/download:",
        on_click="ignore",
    )
    if record.student_weights is not None:
        weights_column.download_button(
            _("Download the distilled student's weights ({megabytes} MB)").format(
                megabytes=number(len(record.student_weights) / 1e6, 1)
            ),
            lambda blob=record.student_weights: blob,
            file_name=f"kdlab-run{record.number}-{record.config['student']}.pt",
            mime="application/octet-stream",
            key="runs.weights",
            icon=":material/download:",
            on_click="ignore",
            help=_("A PyTorch state_dict: {code}").format(
                code="`model = kdlab.ml.models.build_model(name); "
                "model.load_state_dict(torch.load(file, weights_only=True))`"
            ),
        )
        onnx_download(record, key="runs.onnx", container=onnx_column)
    else:
        weights_column.caption(
            _(
                "The weights of this run were not kept: the server keeps those of your last few runs, "
                "or the run stopped before the student trained."
            )
        )
    render_run_result(record, key=f"runs.result.{record.run_id}")
    notebook_download(record, key="runs.notebook")  # every run also goes home as a notebook


def render_runs_page() -> None:
    """The Runs page below its introduction."""
    store = session_runs()
    unsaved = unsaved_runs()
    records = load_runs(store, unsaved)
    if not records:
        st.info(_("No runs yet. Go to the lab and press Train."))
        page_link("pages/distillation_lab.py", _("Distillation lab"), ":material/science:")
        return
    render_table(records, unsaved)
    st.subheader(_("Compare curves"))
    by_id = {record.run_id: record for record in records}
    render_overlay(by_id)
    st.subheader(_("One run in detail"))
    render_detail(by_id, store, unsaved)
