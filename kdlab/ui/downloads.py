"""A run taken home: the notebook that reproduces it and the distilled student as ONNX (the lab's result and
the Runs page)."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.notebooks import notebook_bytes, run_notebook
from kdlab.i18n import _
from kdlab.ml.export import INPUT_NAME, OUTPUT_NAME, onnx_bytes
from kdlab.runs.record import RunRecord, model_from_bytes


def notebook_download(record: RunRecord, *, key: str) -> None:
    """ "Take this run home": a notebook that reproduces ``record`` with the kdlab API (``kdlab.classroom.notebooks``)."""
    recorded = {
        name: record.errors(role)
        for name, role in (("teacher", "teacher"), ("student alone", "baseline"), ("distilled", "distilled"))
    }
    notebook = run_notebook(
        record.config,
        data_source=record.summary.get("data", {}).get("source", "mnist"),
        # A stopped run's numbers are partial: the notebook trains to the end, so there is nothing to compare.
        recorded={name: errors for name, errors in recorded.items() if errors is not None}
        if record.status == "completed"
        else {},
        title=f"kdlab run {record.label}",
    )
    st.download_button(
        _("Take this run home (Jupyter notebook)"),
        notebook_bytes(notebook),
        file_name=f"kdlab-run-{record.number}.ipynb",
        mime="application/x-ipynb+json",
        key=key,
        icon=":material/download:",
        on_click="ignore",
        help=_(
            "Reproduces this run with the kdlab API on the same data and seed, with the loss written out in plain "
            "PyTorch."
        ),
    )


def onnx_download(record: RunRecord, *, key: str, container=st) -> None:
    """The distilled student as ONNX (made on click), for a record that kept its weights."""
    if record.student_weights is None:
        return
    architecture = record.config["student"]
    container.download_button(
        _("Download the distilled student as ONNX"),
        lambda: onnx_bytes(model_from_bytes(record.student_weights, architecture)),
        file_name=f"kdlab-run{record.number}-{architecture}.onnx",
        mime="application/octet-stream",
        key=key,
        icon=":material/download:",
        on_click="ignore",
        help=_(
            "Runs without kdlab or PyTorch (onnxruntime, for one): input '{input}', float32 images (N, 1, 28, 28) with "
            "pixels in [0, 1], the MNIST normalisation inside; output '{output}' (N, 10)."
        ).format(input=INPUT_NAME, output=OUTPUT_NAME),
    )
