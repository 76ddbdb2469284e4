"""The links a teacher shares: URL parameters in a stable order, full page links, a lab link's parameters.

Never carries a student code (``s``): a shared link is the same for every student.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

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
