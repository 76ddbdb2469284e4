"""Who is asking, for rate limits and the per-client job limit: this browser session and the client address
(``kdlab.serve.clients``: the connection's, or a trusted proxy header's)."""

from __future__ import annotations

import uuid

import streamlit as st

from kdlab.serve import clients

SESSION_ID_KEY = "kdlab.session_id"


def client_address() -> str | None:
    """The client's address (None on localhost and under AppTest, unless a trusted proxy header says)."""
    header = clients.trusted_header()
    values = st.context.headers.get_all(header) if header else ()
    return clients.client_address(getattr(st.context, "ip_address", None), values)


def client_keys() -> tuple[str, str | None]:
    """The keys a rate limit counts this request under: the session's, and the address's (None without one)."""
    if SESSION_ID_KEY not in st.session_state:
        st.session_state[SESSION_ID_KEY] = uuid.uuid4().hex
    address = client_address()
    return f"session:{st.session_state[SESSION_ID_KEY]}", f"address:{address}" if address else None
