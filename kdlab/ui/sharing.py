"""Sharing links with a class: the address students open (the server's network address, never the
``localhost`` a teacher's own browser may show), and each shared link as text to copy and a QR code to show
on the projector. ``kdlab.classroom.urls`` decides the address; this module reads Streamlit's options."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.urls import StudentsAddress, choose_students_address, network_address, qr_png
from kdlab.i18n import _
from kdlab.settings import current_settings
from kdlab.ui.picture import picture as show_picture

QR_WIDTH = 180  # pixels: a phone reads it from the back of a room off a projector


def students_address() -> StudentsAddress:
    """The address students open: ``KDLAB_PUBLIC_URL``, else found from Streamlit's options, this browser's
    address and the machine's network address (``kdlab.classroom.urls.choose_students_address``)."""
    return choose_students_address(
        public_url=current_settings().public_url,
        browser_url=st.context.url,
        listen_address=st.get_option("server.address"),
        browser_address=st.get_option("browser.serverAddress"),
        network_address=network_address(),
        port=st.get_option("browser.serverPort"),
        base_path=st.get_option("server.baseUrlPath") or "",
        scheme="https" if st.get_option("server.sslCertFile") else "http",
    )


def base_url() -> str:
    """The start of every link a teacher shares: the address students open."""
    return students_address().url


def render_students_address() -> StudentsAddress:
    """A box with the address students open and its QR code, how it was found, and what to do when only
    this machine can reach it. Returns the address."""
    address = students_address()
    with st.container(border=True, key="share.address"):
        picture, words = st.columns([1, 4], vertical_alignment="center")
        with picture:
            show_picture(qr_png(address.url), alt=_("QR code of {url}").format(url=address.url), width=QR_WIDTH)
        words.markdown(_("**Students open** `{url}`").format(url=address.url))
        if address.reachable:
            words.caption(
                _(
                    "From {found}. Students need to be on the same network as this server (a phone on mobile data is "
                    "not). Another address? Set KDLAB_PUBLIC_URL on the server and restart it."
                ).format(found=address.found)
            )
        else:
            words.warning(_("**Only this machine can open this address.** {advice}").format(advice=address.advice))
    return address


def shared_link(url: str, caption: str = "") -> None:
    """A link to share: its text, with a copy button at the corner, and its QR code."""
    if caption:
        st.caption(caption)
    text, picture = st.columns([3, 1], vertical_alignment="center")
    text.code(url, language=None, wrap_lines=True)
    with picture:
        show_picture(qr_png(url), alt=_("QR code of {url}").format(url=url), width=QR_WIDTH, caption=_("Scan to open"))
