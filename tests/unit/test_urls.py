"""The address students open (never the teacher's localhost), a page address cut to the app's, the machine's
network address, and a shared link as a QR code that holds exactly that link."""

from __future__ import annotations

import io
import socket

import pytest
import segno
from PIL import Image

from kdlab.classroom import urls
from kdlab.classroom.lessons import load_lessons
from kdlab.classroom.urls import choose_students_address, is_loopback, link_url, network_address, qr_png, site_url

LONG_BASE, LONG_CODE = "https://kdlab.physics.school.example:8501/kdlab", "PHYS-7-AFTERNOON"
SERVER = dict(
    public_url=None,
    browser_url=None,
    listen_address=None,
    browser_address="localhost",  # Streamlit's default
    network_address="192.168.1.20",
    port=8501,
)


def test_a_teacher_on_localhost_shares_the_machines_network_address():
    address = choose_students_address(**SERVER | {"browser_url": "http://localhost:8501/lessons?lesson=3"})
    assert address.url == "http://192.168.1.20:8501" and address.reachable
    assert address.found == "this machine's network address"
    link = link_url(address.url, "lab", {"T": 8.0, "class": "PHYS-7", "s": "the-teachers-own-code"})
    assert link == "http://192.168.1.20:8501/distillation_lab?T=8&class=PHYS-7"


@pytest.mark.parametrize(
    ("changes", "url", "found"),
    [
        ({"public_url": "https://kdlab.school.example/"}, "https://kdlab.school.example", "KDLAB_PUBLIC_URL"),
        ({"browser_address": "kdlab.lan"}, "http://kdlab.lan:8501", "Streamlit's browser.serverAddress"),
        (
            {"browser_url": "http://10.0.0.5:8501/distillation_lab?T=8"},
            "http://10.0.0.5:8501",
            "the address this browser opened",
        ),
        ({"listen_address": "10.0.0.7"}, "http://10.0.0.7:8501", "Streamlit's server.address"),
        ({"port": 8600, "base_path": "/kd/", "scheme": "https"}, "https://192.168.1.20:8600/kd", None),
        ({"network_address": "fd00::2"}, "http://[fd00::2]:8501", None),
    ],
)
def test_the_first_address_that_students_can_reach_wins(changes, url, found):
    address = choose_students_address(**SERVER | changes)
    assert (address.url, address.reachable) == (url, True)
    assert found is None or address.found == found


def test_an_address_only_this_machine_reaches_is_flagged_with_what_to_do():
    loopback = choose_students_address(**SERVER | {"listen_address": "127.0.0.1"})
    assert not loopback.reachable and "--server.address 0.0.0.0" in loopback.advice
    alone = choose_students_address(**SERVER | {"network_address": None, "browser_url": "http://127.0.0.1:8501/"})
    assert alone.url == "http://127.0.0.1:8501" and not alone.reachable and "KDLAB_PUBLIC_URL" in alone.advice


def test_loopback_names_and_page_addresses():
    assert all(is_loopback(host) for host in ("localhost", "LOCALHOST", "127.0.1.1", "::1", "[::1]", "app.localhost"))
    assert not any(is_loopback(host) for host in ("192.168.1.20", "10.0.0.5", "kdlab.lan", "fd00::2", "0.0.0.0"))
    assert site_url("http://h:8501/class_board?class=PHYS-7") == "http://h:8501"
    assert site_url("https://h/kd/distillation_lab") == "https://h/kd"
    assert site_url("http://h:8501/") == "http://h:8501"


def test_the_network_address_is_the_default_routes_or_none(monkeypatch):
    found = network_address()
    assert found is None or not is_loopback(found)

    class NoRoute:
        def __init__(self, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def connect(self, target):
            raise OSError("Network is unreachable")

    monkeypatch.setattr(urls.socket, "socket", NoRoute)
    monkeypatch.setattr(urls.socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1", "10.1.2.3"]))
    assert network_address() == "10.1.2.3"
    monkeypatch.setattr(urls.socket, "gethostbyname_ex", lambda name: (name, [], ["127.0.1.1"]))
    assert network_address() is None
    monkeypatch.setattr(urls.socket, "gethostbyname_ex", lambda name: (_ for _ in ()).throw(socket.gaierror()))
    assert network_address() is None


def test_a_qr_code_holds_exactly_the_link():
    link = "http://192.168.1.20:8501/distillation_lab?T=8&alpha=0.9&lock=all&class=PHYS-7&predict=1"
    image = Image.open(io.BytesIO(qr_png(link))).convert("L")
    expected = segno.make(link, error="m", micro=False)
    modules = len(expected.matrix)
    assert image.size == ((modules + 4) * 4,) * 2  # 4 pixels a module, a 2-module quiet zone
    read = [[image.getpixel((4 * (2 + x) + 2, 4 * (2 + y) + 2)) < 128 for x in range(modules)] for y in range(modules)]
    assert read == [[bool(bit) for bit in row] for row in expected.matrix]
    assert qr_png(link) != qr_png(link.replace("PHYS-7", "PHYS-8"))


def test_every_lesson_link_is_a_qr_code_a_phone_reads_off_a_projector():
    lessons, _ = load_lessons()
    links = [
        url for lesson in lessons for step in lesson.steps for _, url in step.urls(LONG_BASE, class_code=LONG_CODE)
    ]
    # Version 10 is 57 x 57 modules: at 4 pixels a module a 236-pixel image, read from the back of a room.
    assert links and max(segno.make(link, error="m", micro=False).version for link in links) <= 10
