"""The compression replay's tab (Bucila et al. 2006): what ran, the transfer images, the errors,
and the paper's claim checked on our numbers. The claim's words come from the replay's ``paper_numbers``."""

from __future__ import annotations

import numpy as np
import streamlit as st

from kdlab.experiments.replays import ReplayResult
from kdlab.plots import ensembles as ensemble_plots

EXAMPLES_SHOWN = 8
IMAGE_ZOOM = 3
EXAMPLE_CAPTIONS = {
    "labelled": "The labelled set: the only images with labels. The ensemble and the student alone learn from these "
    "labels; one more student learns from the ensemble's soft targets for these same images.",
    "real": "Real MNIST images whose labels are ignored: the ensemble labels them.",
    "munge": "MUNGE images: each starts from a labelled image and takes about half its pixels from its nearest "
    "neighbour, redrawn around the neighbour's value with a spread equal to the two images' difference. "
    "Where the two agree (the background) nothing changes; where they differ the strokes blend and jitter.",
    "noise": "Random noise: every pixel uniform in 0..255. Nothing like a digit, so the ensemble's answers on it "
    "say little about digits.",
}


def strip(images) -> np.ndarray:
    """Up to ``EXAMPLES_SHOWN`` uint8 images (K, 28, 28) side by side, enlarged."""
    row = np.concatenate([image.numpy() for image in images[:EXAMPLES_SHOWN]], axis=1)
    return row.repeat(IMAGE_ZOOM, axis=0).repeat(IMAGE_ZOOM, axis=1)


def caption(summary: dict) -> None:
    """What ran: the data, the budget, the sets' sizes, the ensemble, how long it took."""
    budget, teacher, sets = summary["budget"], summary["teacher"], summary["sets"]
    cached = "loaded from the cache" if teacher.get("from_cache") else "trained in this run"
    transfer = ", ".join(
        f"{kind} {sets[kind]['size']:,}" for kind in summary["config"]["transfer_kinds"] if kind in sets
    )
    st.caption(
        f"Ran on {summary['data']['label']} with the **{budget['name']}** budget: {sets['labelled']['size']:,} "
        f"labelled images; ensemble {teacher['arch']} ({budget['teacher_epochs']} epochs per member, {cached}); "
        f"transfer sets {transfer or '-'}; every student sees {budget['student_epochs'] * budget['transfer_size']:,} "
        f"images ({budget['student_epochs']} epochs of {budget['transfer_size']:,}, more of a smaller set). Test "
        f"errors on {sets['test']['size']:,} images. This run "
        f"took {summary['seconds']:.0f} s."
    )


def verdict(summary: dict) -> None:
    """The paper's claim, checked on the best transfer set of real or MUNGE images."""
    ours, claim = summary["ours"], summary["claim"]
    checked = {kind: claim[kind] for kind in ("real", "munge") if claim.get(kind)}
    if not checked:
        return
    lines = []
    for kind, result in checked.items():
        errors = ours[f"{kind}_errors"]
        closed = "" if result["gap_closed"] is None else f", {result['gap_closed']:.0%} of the way to the ensemble"
        lines.append(
            f"from **{kind}** images: **{errors:,} errors** ({result['fewer_errors_than_alone']:.0%} fewer than the "
            f"student alone's {ours['student_alone_errors']:,}{closed})"
        )
    holds = all(result["close_to_ensemble"] and result["beats_alone_widely"] for result in checked.values())
    text = f"The ensemble makes {ours['ensemble_errors']:,} errors. The compressed student, " + "; ".join(lines) + "."
    if ours.get("labelled_errors") is not None:
        text += (
            f" Distilled on the labelled images alone, with no extra images, it makes {ours['labelled_errors']:,}: "
            "the soft targets alone already help, and the rest of the way is what the extra images add."
        )
    (st.success if holds else st.warning)(
        ("**The paper's claim holds here.** " if holds else "**The claim does not fully hold with this run.** ") + text
    )
    st.caption(f"How we read the claim: {summary['claim_rule']}.")


def render_compression(result: ReplayResult, key: str) -> None:
    """The compression replay's result: caption, verdict, errors, example images, comparison."""
    summary = result.summary
    caption(summary)
    ensemble_note = summary["teacher"].get("averaging")
    if ensemble_note:
        st.caption(f"The ensemble's soft targets: the {ensemble_note}.")
    verdict(summary)
    st.plotly_chart(ensemble_plots.compression_errors(summary), key=f"{key}.errors")
    st.markdown("**What each student learned from** (the first images of each set):")
    for kind in dict.fromkeys(("labelled", *summary["config"]["transfer_kinds"])):
        if kind in result.images:
            st.image(strip(result.images[kind]), caption=EXAMPLE_CAPTIONS[kind])
    noise = summary["sets"].get("noise")
    if noise:
        counts = noise["ensemble_label_counts"]
        top = max(range(10), key=counts.__getitem__)
        st.caption(
            f"On the noise images the ensemble answers **{top}** {counts[top] / max(sum(counts), 1):.0%} of the "
            "time: its labels there teach the student about noise, not about digits."
        )
    rows = [
        {
            "": row["quantity"],
            "Paper": row["paper"] or "-",
            "Ours": "-" if row["ours"] is None else f"{row['ours']:,} of {row['ours_total']:,} wrong",
        }
        for row in summary["comparison"]
    ]
    st.dataframe(rows, hide_index=True, width="stretch")
