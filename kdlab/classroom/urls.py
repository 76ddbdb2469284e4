"""The links a teacher shares: the address students open, URL parameters in a stable order, full page
links, a lab link's parameters, and a link as a QR code.

Never carries a student code (``s``): a shared link is the same for every student. A link starts with the
address students open (``choose_students_address``), never the ``localhost`` a teacher's own browser may show.
"""

from __future__ import annotations

import functools
import io
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from kdlab.classroom.lab_settings import LAB_NAMES
from kdlab.classroom.pages import LINK_PAGES
from kdlab.classroom.values import number_text


def query_string(params: Mapping[str, object]) -> str:
    """``T=8&lock=T%2Calpha``: URL parameters in a stable order, numbers written the short way."""

    def text(value: object) -> str:
        return number_text(value) if isinstance(value, float) else str(value)

    return urlencode({name: text(value) for name, value in params.items() if value is not None and value != ""})


def link_url(base_url: str, page: str, params: Mapping[str, object]) -> str:
    """The full link to ``page`` with ``params``; never carries a student code (``s``)."""
    query = query_string({name: value for name, value in params.items() if name != "s"})
    path = f"{base_url.rstrip('/')}/{LINK_PAGES[page].url_path}"
    return f"{path}?{query}" if query else path


def lab_link_params(
    settings: Mapping[str, object], *, lock: Sequence[str] = (), class_code: str | None = None, predict: bool = False
) -> dict[str, object]:
    """The URL parameters of a lab link: every setting, then lock, class and predict."""
    params = {name: settings[name] for name in LAB_NAMES if name in settings}
    if lock:
        params["lock"] = "all" if set(lock) >= set(LAB_NAMES) else ",".join(n for n in LAB_NAMES if n in lock)
    if class_code:
        params["class"] = class_code
    if predict:
        params["predict"] = "1"
    return params


@dataclass(frozen=True)
class StudentsAddress:
    """Where students open the app: the start of every shared link, how it was found, and whether other
    machines can reach it (False: only this machine can, and ``advice`` says what to do)."""

    url: str  # http://192.168.1.20:8501, no trailing slash
    found: str  # how, in words: "KDLAB_PUBLIC_URL", "this machine's network address", ...
    reachable: bool = True
    advice: str = ""


WILDCARDS = ("", "0.0.0.0", "::")  # a server listening on every interface


def is_loopback(host: str | None) -> bool:
    """True for an address only this machine reaches: ``localhost``, ``127.x.y.z``, ``::1``."""
    host = (host or "").strip("[]").lower()
    return host == "localhost" or host.endswith(".localhost") or host.startswith("127.") or host == "::1"


def site_url(page_url: str) -> str:
    """The app's address from one of its page addresses: ``http://h:8501/distillation_lab?T=8`` -> ``http://h:8501``."""
    parts = urlsplit(page_url)
    path = parts.path.rstrip("/")
    for entry in LINK_PAGES.values():
        if path.endswith("/" + entry.url_path):
            path = path[: -len(entry.url_path) - 1]
    return f"{parts.scheme}://{parts.netloc}{path}"


def choose_students_address(
    *,
    public_url: str | None,
    browser_url: str | None,
    listen_address: str | None,
    browser_address: str | None,
    network_address: str | None,
    port: int,
    base_path: str = "",
    scheme: str = "http",
) -> StudentsAddress:
    """The address students open, from the first of: ``KDLAB_PUBLIC_URL`` (``public_url``); Streamlit's
    ``browser.serverAddress`` (``browser_address``) when set to more than localhost; the address the teacher's
    browser opened (``browser_url``) when it is not this machine's own name; the one interface the server
    listens on (``server.address``, ``listen_address``); this machine's network address (``network_address``).
    A server that listens on loopback only, or a machine with no network address, gives an unreachable one."""
    base = "/" + base_path.strip("/") if base_path.strip("/") else ""

    def on(host: str) -> str:
        return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}{base}"

    if public_url:
        return StudentsAddress(public_url.rstrip("/"), "KDLAB_PUBLIC_URL")
    own = site_url(browser_url) if browser_url else on("localhost")
    listen = (listen_address or "").strip()
    if is_loopback(listen):
        advice = f"The server listens on {listen} only: restart it with --server.address 0.0.0.0."
        return StudentsAddress(own, "the server's address", reachable=False, advice=advice)
    if browser_address and not is_loopback(browser_address):
        return StudentsAddress(on(browser_address), "Streamlit's browser.serverAddress")
    if browser_url and not is_loopback(urlsplit(browser_url).hostname):
        return StudentsAddress(own, "the address this browser opened")
    if listen not in WILDCARDS:
        return StudentsAddress(on(listen), "Streamlit's server.address")
    if network_address and not is_loopback(network_address):
        return StudentsAddress(on(network_address), "this machine's network address")
    advice = "No network address found on this machine: connect it to the students' network, or set KDLAB_PUBLIC_URL."
    return StudentsAddress(own, "this browser's address", reachable=False, advice=advice)


def network_address() -> str | None:
    """This machine's address on its network: the interface of its default route (a UDP socket's connect
    picks it and sends nothing), else a name-resolved address that is not loopback; None without either."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("8.8.8.8", 80))
            address = probe.getsockname()[0]
        if not is_loopback(address) and address not in WILDCARDS:
            return address
    except OSError:
        pass
    try:
        addresses = socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        return None
    return next((address for address in addresses if not is_loopback(address)), None)


@functools.lru_cache(maxsize=256)  # a lesson's links, redrawn on every rerun of the page: 12 ms each to make
def qr_png(text: str) -> bytes:
    """``text`` (a link) as a QR code, a PNG of 4-pixel modules that a phone reads from a projector."""
    import segno  # imported lazily: about 0.1 s, and only the pages that share links need it

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()
