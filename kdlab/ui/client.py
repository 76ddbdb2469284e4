"""Who is asking, for rate limits: this browser session and the client address Streamlit sees."""

from __future__ import annotations

import uuid

import streamlit as st

SESSION_ID_KEY = "kdlab.session_id"


def client_address() -> str | None:
    """The client's address as Streamlit sees it (None on localhost and under AppTest)."""
    return getattr(st.context, "ip_address", None)


def client_keys() -> tuple[str, str | None]:
    """The keys a rate limit counts this request under: the session's, and the address's (None without one)."""
    if SESSION_ID_KEY not in st.session_state:
        st.session_state[SESSION_ID_KEY] = uuid.uuid4().hex
    address = client_address()
    return f"session:{st.session_state[SESSION_ID_KEY]}", f"address:{address}" if address else None
