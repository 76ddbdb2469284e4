"""The sidebar every page shares: data source, device, teacher cache, training queue."""

from __future__ import annotations

import re

import streamlit as st
import torch

from kdlab.ml.data import GET_FULL_MNIST_HINT, DataError
from kdlab.ml.train import pick_device
from kdlab.serve.jobs import default_runner, usable_cores
from kdlab.ui.resources import load_data, teacher_cache_dir
from kdlab.ui.session import recall_job

_CACHE_NAME = re.compile(
    r"^(?P<arch>.+?)-(?P<source>mnist-sample|mnist)-(?P<size>\d+)-e(?P<epochs>\d+)-s(?P<seed>\d+)"
    r"(?:-j\d+)?\.pt$"
)


def device_label() -> str:
    """The training device in words: "CPU: 1 training thread on 2 cores" or the GPU's name."""
    device = pick_device()
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU: Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU: {threads} training thread{'s' if threads > 1 else ''} on {usable_cores()} cores"


def cached_teacher_names(source: str, train_size: int) -> list[str]:
    """Cached teacher files for this data source, as "cnn (4 epochs)"."""
    folder = teacher_cache_dir()
    names = []
    for path in sorted(folder.glob("*.pt")) if folder.is_dir() else []:
        match = _CACHE_NAME.match(path.name)
        if match and match["source"] == source and int(match["size"]) == train_size:
            names.append(f"{match['arch']} ({match['epochs']} epochs, seed {match['seed']})")
    return names


def render_sidebar() -> None:
    """Data source (and how to get full MNIST), device, cached teachers, the training queue."""
    with st.sidebar:
        st.markdown("**Data**")
        try:
            data = load_data()
        except DataError as error:  # the page says it too, and the server's log names the folder
            st.error(f"No usable MNIST data: {error.advice}")
            return
        source = data.source
        st.caption(source.label)
        if not source.is_full:
            with st.expander("Get full MNIST"):
                st.caption(GET_FULL_MNIST_HINT)  # not source.note, which can name the server's cache folder
        st.markdown("**Device**")
        st.caption(device_label())
        st.markdown("**Teacher cache**")
        teachers = cached_teacher_names(source.name, source.train_size)
        # Names only: a classroom server never shows students its file-system paths.
        st.caption("Cached: " + ", ".join(teachers) if teachers else "No teacher cached yet: the first use trains one.")
        runner = default_runner()
        running, waiting = runner.running_count(), runner.queued_count()
        st.markdown("**Training queue**")
        st.caption(f"{running} running, {waiting} waiting (at most {runner.max_concurrent} at once)")
        job = recall_job("lab")
        if job is not None and not job.is_finished:
            st.caption(
                f"Your lab run: {job.progress:.0%}"
                if job.status == "running"
                else f"Your lab run is number {job.queue_position()} in the queue"
            )
