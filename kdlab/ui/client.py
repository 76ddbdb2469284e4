"""Who is asking, for rate limits and the per-client job limits: this browser session and the client address
(``kdlab.serve.clients``: the connection's, a trusted proxy header's, or ``LOCAL`` for this machine)."""

from __future__ import annotations

import uuid

import streamlit as st

from kdlab.serve import clients
from kdlab.serve.rate import address_key

SESSION_ID_KEY = "kdlab.session_id"


def client_address() -> str:
    """The client's address; ``kdlab.serve.clients.LOCAL`` on localhost and under AppTest, unless a trusted
    proxy header says otherwise. Never None: every limit per address applies."""
    header = clients.trusted_header()
    values = st.context.headers.get_all(header) if header else ()
    connection = getattr(st.context, "ip_address", None)
    return clients.client_address(connection if isinstance(connection, str) else None, values)  # AppTest: a mock


def client_keys() -> tuple[str, str]:
    """The keys a rate limit counts this request under: the session's, and the address's."""
    if SESSION_ID_KEY not in st.session_state:
        st.session_state[SESSION_ID_KEY] = uuid.uuid4().hex
    return f"session:{st.session_state[SESSION_ID_KEY]}", address_key(client_address())
