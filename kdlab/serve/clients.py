"""Which client asked: the address a per-client limit counts under, and whether a visitor asked.

The address is the connection's own (what the app's server sees), unless the instructor named a
trusted proxy header (``KDLAB_TRUSTED_PROXY_HEADER``, e.g. ``X-Forwarded-For``): then it is the
right-most entry of that header, the one the proxy in front of the app wrote for the address it
saw (``deploy/nginx.conf.template`` replaces the header with it; a proxy that appends leaves the
browser's entries to its left, and anyone can write those). Without a proxy the whole header is the
browser's: so headers are ignored unless the setting names one.

Streamlit gives no address for a connection from this machine (``st.context.ip_address`` is None on
loopback), which is how a proxy on the same host reaches the app. Such a connection without the
header is never "no limit": every one of them is the one client ``LOCAL``, and the first is logged
as a warning that says how to give the students their own addresses.

A visitor is a session without a student code: any new tab is one, so the job runner limits their jobs
per client address more tightly than students' (``KDLAB_MAX_VISITOR_JOBS_PER_CLIENT``).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence

from kdlab.settings import current_settings

log = logging.getLogger(__name__)
LOCAL = "local"  # every connection from this machine (or of unknown address) without a trusted header
VISITOR_PREFIX = "visitor:"  # the owners of visitors' jobs (``visitor_owner``)
_warned = threading.Event()


def client_address(connection: str | None, header_values: Sequence[str] = ()) -> str:
    """The client's address: the right-most entry of the trusted header's ``header_values`` (every line of
    it, in order) when ``KDLAB_TRUSTED_PROXY_HEADER`` is set and the header is there, else ``connection``,
    else (a loopback connection: Streamlit gives None) ``LOCAL``, one client for all of them."""
    header = current_settings().trusted_proxy_header
    if header is not None:
        hops = [hop.strip() for line in header_values for hop in line.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    if connection is not None:
        return connection
    _warn_local(header)
    return LOCAL


def _warn_local(header: str | None) -> None:
    if _warned.is_set():
        return
    _warned.set()
    if header is None:
        advice = (
            "behind a proxy on this machine, have it set X-Forwarded-For to the client's address and set "
            "KDLAB_TRUSTED_PROXY_HEADER=X-Forwarded-For (docs/deployment.md)"
        )
    else:
        advice = f"the proxy in front of the app must set {header} (deploy/nginx.conf.template)"
    log.warning(
        "A connection from this machine without a client address: every such connection counts as one client "
        "(%r) for the per-client limits, so a class behind a proxy here shares them; %s.",
        LOCAL,
        advice,
    )


def trusted_header() -> str | None:
    """The header ``client_address`` reads (``KDLAB_TRUSTED_PROXY_HEADER``), or None."""
    return current_settings().trusted_proxy_header


def visitor_owner() -> str:
    """A new job owner for a session without a student code."""
    return f"{VISITOR_PREFIX}{uuid.uuid4().hex[:12]}"


def is_visitor(owner: str | None) -> bool:
    """True for an owner made by ``visitor_owner``."""
    return owner is not None and owner.startswith(VISITOR_PREFIX)
