"""The compression replay's tab (Bucila et al. 2006): what ran, the transfer images, the errors,
and the paper's claim checked on our numbers. The claim's words come from the replay's ``paper_numbers``."""

from __future__ import annotations

import numpy as np
import streamlit as st

from kdlab.experiments.replays import ReplayResult, shown_quantity
from kdlab.experiments.replays.bucila_settings import claim_rule
from kdlab.i18n import N_, _, number, percent
from kdlab.plots import ensembles as ensemble_plots

EXAMPLES_SHOWN = 8
IMAGE_ZOOM = 3
EXAMPLE_CAPTIONS = {
    "labelled": N_(
        "The labelled set: the only images with labels. The ensemble and the student alone learn from these labels; "
        "one more student learns from the ensemble's soft targets for these same images."
    ),
    "real": N_("Real MNIST images whose labels are ignored: the ensemble labels them."),
    "munge": N_(
        "MUNGE images: each starts from a labelled image and takes about half its pixels from its nearest neighbour, "
        "redrawn around the neighbour's value with a spread equal to the two images' difference. Where the two agree "
        "(the background) nothing changes; where they differ the strokes blend and jitter."
    ),
    "noise": N_(
        "Random noise: every pixel uniform in 0..255. Nothing like a digit, so the ensemble's answers on it say "
        "little about digits."
    ),
}
KIND_WORDS = {"real": N_("real"), "munge": N_("MUNGE"), "noise": N_("noise"), "labelled": N_("labelled")}


def strip(images) -> np.ndarray:
    """Up to ``EXAMPLES_SHOWN`` uint8 images (K, 28, 28) side by side, enlarged."""
    row = np.concatenate([image.numpy() for image in images[:EXAMPLES_SHOWN]], axis=1)
    return row.repeat(IMAGE_ZOOM, axis=0).repeat(IMAGE_ZOOM, axis=1)


def caption(summary: dict) -> None:
    """What ran: the data, the budget, the sets' sizes, the ensemble, how long it took."""
    budget, teacher, sets = summary["budget"], summary["teacher"], summary["sets"]
    cached = _("loaded from the cache") if teacher.get("from_cache") else _("trained in this run")
    transfer = ", ".join(
        f"{_(KIND_WORDS[kind])} {number(sets[kind]['size'])}"
        for kind in summary["config"]["transfer_kinds"]
        if kind in sets
    )
    st.caption(
        _(
            "Ran on {data} with the **{budget}** budget: {labelled} labelled images; ensemble {ensemble} ({epochs} "
            "epochs per member, {cached}); transfer sets {transfer}; every student sees {seen} images "
            "({student_epochs} epochs of {transfer_size}, more of a smaller set). Test errors on {test} images. This "
            "run took {seconds} s."
        ).format(
            data=summary["data"]["label"],
            budget=budget["name"],
            labelled=number(sets["labelled"]["size"]),
            ensemble=teacher["arch"],
            epochs=budget["teacher_epochs"],
            cached=cached,
            transfer=transfer or "-",
            seen=number(budget["student_epochs"] * budget["transfer_size"]),
            student_epochs=budget["student_epochs"],
            transfer_size=number(budget["transfer_size"]),
            test=number(sets["test"]["size"]),
            seconds=number(summary["seconds"], 0),
        )
    )


def verdict(summary: dict) -> None:
    """The paper's claim, checked on the best transfer set of real or MUNGE images."""
    ours, claim = summary["ours"], summary["claim"]
    checked = {kind: claim[kind] for kind in ("real", "munge") if claim.get(kind)}
    if not checked:
        return
    lines = []
    for kind, result in checked.items():
        values = {
            "kind": _(KIND_WORDS[kind]),
            "errors": number(ours[f"{kind}_errors"]),
            "fewer": percent(result["fewer_errors_than_alone"]),
            "alone": number(ours["student_alone_errors"]),
        }
        if result["gap_closed"] is None:
            line = _("from **{kind}** images: **{errors} errors** ({fewer} fewer than the student alone's {alone})")
        else:
            values["closed"] = percent(result["gap_closed"])
            line = _(
                "from **{kind}** images: **{errors} errors** ({fewer} fewer than the student alone's {alone}, {closed} "
                "of the way to the ensemble)"
            )
        lines.append(line.format(**values))
    holds = all(result["close_to_ensemble"] and result["beats_alone_widely"] for result in checked.values())
    text = _("The ensemble makes {errors} errors. The compressed student, {results}.").format(
        errors=number(ours["ensemble_errors"]), results="; ".join(lines)
    )
    if ours.get("labelled_errors") is not None:
        text += " " + _(
            "Distilled on the labelled images alone, with no extra images, it makes {errors}: the soft targets alone "
            "already help, and the rest of the way is what the extra images add."
        ).format(errors=number(ours["labelled_errors"]))
    if holds:
        st.success(_("**The paper's claim holds here.** {text}").format(text=text))
    else:
        st.warning(_("**The claim does not fully hold with this run.** {text}").format(text=text))
    st.caption(_("How we read the claim: {rule}.").format(rule=claim_rule()))


def render_compression(result: ReplayResult, key: str) -> None:
    """The compression replay's result: caption, verdict, errors, example images, comparison."""
    summary = result.summary
    caption(summary)
    if summary["teacher"].get("averaging"):  # kdlab.teachers.teacher's one way of averaging, said in words here
        st.caption(_("The ensemble's soft targets: the arithmetic mean of the members' softened probabilities."))
    verdict(summary)
    st.plotly_chart(ensemble_plots.compression_errors(summary), key=f"{key}.errors")
    st.markdown(_("**What each student learned from** (the first images of each set):"))
    for kind in dict.fromkeys(("labelled", *summary["config"]["transfer_kinds"])):
        if kind in result.images:
            st.image(strip(result.images[kind]), caption=_(EXAMPLE_CAPTIONS[kind]))
    noise = summary["sets"].get("noise")
    if noise:
        counts = noise["ensemble_label_counts"]
        top = max(range(10), key=counts.__getitem__)
        st.caption(
            _(
                "On the noise images the ensemble answers **{digit}** {share} of the time: its labels there teach the "
                "student about noise, not about digits."
            ).format(digit=top, share=percent(counts[top] / max(sum(counts), 1)))
        )
    rows = [
        {
            "": shown_quantity(row),
            _("Paper"): _(row["paper"]) if row["paper"] else "-",
            _("Ours"): "-"
            if row["ours"] is None
            else _("{errors} of {total} wrong").format(errors=number(row["ours"]), total=number(row["ours_total"])),
        }
        for row in summary["comparison"]
    ]
    st.dataframe(rows, hide_index=True, width="stretch", column_config={"": _("quantity")})  # a header for every column
