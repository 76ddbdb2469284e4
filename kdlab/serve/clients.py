"""Which client asked: the address a per-client limit counts under.

The address is the connection's own (what the app's server sees), unless the instructor named a
trusted proxy header (``KDLAB_TRUSTED_PROXY_HEADER``, e.g. ``X-Forwarded-For``): then it is the
right-most entry of that header, the one the proxy in front of the app appended for the address it
saw. Entries to its left came from the browser and anyone can write them, and without a proxy the
whole header is the browser's: so headers are ignored unless the setting names one.
"""

from __future__ import annotations

from collections.abc import Sequence

from kdlab.settings import current_settings


def client_address(connection: str | None, header_values: Sequence[str] = ()) -> str | None:
    """The client's address: the right-most entry of the trusted header's ``header_values`` (every line of
    it, in order) when ``KDLAB_TRUSTED_PROXY_HEADER`` is set and the header is there, else ``connection``
    (None: unknown, e.g. on localhost)."""
    if current_settings().trusted_proxy_header is None:
        return connection
    hops = [hop.strip() for line in header_values for hop in line.split(",") if hop.strip()]
    return hops[-1] if hops else connection


def trusted_header() -> str | None:
    """The header ``client_address`` reads (``KDLAB_TRUSTED_PROXY_HEADER``), or None."""
    return current_settings().trusted_proxy_header
