"""The student's part of the deployment rehearsal (``deploy/rehearse.sh`` starts everything and runs this).

Through nginx, in headless Chromium (Debian's, as ``tests/browser`` drives it): a student follows a class
link into the lab, presses Train and watches the live curves while the training runs as a Ray task (a Ray
worker process titled ``ray::_run_task`` of this rehearsal is seen running); the run lands in PostgreSQL.
A second, long run starts; the replica that serves the student is killed (SIGKILL, a crash); the student
reloads through nginx, lands on the other replica and finds run 1's result. Run 2 really is cut off (its
replica was Ray's driver, so Ray ended its task with it: no ``ray::_run_task`` is left), and the other
replica lists it as cut off once the dead replica's heartbeat is ``--stale-seconds`` old. The class board,
on the other replica, shows the class's run. Timings go to ``--out`` as JSON.

Two laptops: the student's browser reaches nginx from 127.0.0.2 and a classmate's from 127.0.0.3 (a small
forwarder each: the loopback network has every 127.x address, and Chromium cannot pick its source), so nginx
sees two addresses and passes each on in X-Forwarded-For. The replicas allow one job per client address
(``KDLAB_MAX_JOBS_PER_CLIENT=1``): while run 1 trains, a second browser of the student's laptop, which sends
a forged X-Forwarded-For, is refused as the same network, and the classmate's browser is admitted (its run
queues, and it leaves the queue). So the app counts clients by the address nginx saw, and no header a
browser writes changes it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CLASS = "REHEARSAL"
# Run 1 lasts long enough for the live view (redrawn every 2 s) to draw its curves: about 10 s of training
# on one core for the distilled student and its baseline (the offline sample has 4,000 training images).
RUN_1 = {"full": "epochs=8&train_size=10000", "sample": "epochs=20&train_size=all"}
RUN_1_MODELS = "teacher=linear&student=mlp-100x1&seed=4242"
RUN_2 = "teacher=linear&student=mlp-300x2&epochs=50&train_size=30000&seed=4243"  # minutes: killed while it runs
LIVE_CURVE = ".st-key-lab-live-accuracy .scatterlayer .trace"  # a drawn curve, not the empty axes
RUN_SECONDS = 240  # the first run also starts Ray workers (torch imports) and trains the teacher on Ray
LAPTOPS = ("127.0.0.2", "127.0.0.3")  # the student's and a classmate's source addresses
FORGED = {"X-Forwarded-For": "203.0.113.66", "X-Real-IP": "203.0.113.66"}  # what any browser can send
ONE_NETWORK = "as many runs queued or running as one network may (1)"
OTHER_LAB = "teacher=linear&student=mlp-100x1&epochs=1&train_size=1000"  # other browsers' runs, no class


class Laptop:
    """A forwarder on 127.0.0.1 that passes each connection on to ``target`` from the address ``source``:
    to nginx, a browser that uses it is a machine of its own."""

    def __init__(self, target: tuple[str, int], source: str) -> None:
        self.target, self.source = target, source
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                browser, _ = self.listener.accept()
                upstream = socket.create_connection(self.target, timeout=10, source_address=(self.source, 0))
            except OSError:
                return  # closed
            upstream.settimeout(None)
            for reader, writer in ((browser, upstream), (upstream, browser)):
                threading.Thread(target=_pump, args=(reader, writer), daemon=True).start()

    def close(self) -> None:
        self.listener.close()


def _pump(reader: socket.socket, writer: socket.socket) -> None:
    try:
        while data := reader.recv(65536):
            writer.sendall(data)
    except OSError:
        pass
    finally:  # either side done: both are (the other pump's recv then ends too)
        for end in (reader, writer):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()


def ray_tasks(mark: str) -> list[int]:
    """Pids of this rehearsal's Ray workers running a kdlab training (Ray titles them after the task)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            title = (proc / "cmdline").read_bytes().split(b"\0")[0]
        except OSError:
            continue
        if f"REHEARSAL_MARK={mark}".encode() in environ and title.startswith(b"ray::_run_task"):
            pids.append(int(proc.name))
    return pids


def serving_replica(access_log: Path) -> str:
    """The upstream port of the newest request that nginx passed on (a websocket is logged only when it
    closes, but a page load's requests are logged at once)."""
    lines = [line for line in access_log.read_text().splitlines() if "upstream=" in line]
    found = re.search(r"upstream=(?:[\d.]+:\d+, )*[\d.]+:(\d+)$", lines[-1]) if lines else None
    if found is None:
        raise AssertionError(f"nginx logged no request it passed on: {lines[-3:]}")
    return found.group(1)


def see_live_curves(page) -> None:
    """Wait until the live accuracy chart has drawn a curve (a trace, not only the empty axes)."""
    page.wait_for_function(
        "selector => document.querySelectorAll(selector).length > 0", arg=LIVE_CURVE, timeout=RUN_SECONDS * 1000
    )


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def two_clients(same_laptop, classmate) -> None:
    """While run 1 trains: the student's second browser (forged header and all) is refused as the same
    network; the classmate's, from the other address, is admitted and leaves the queue."""
    same_laptop.get_by_role("button", name="Train", exact=True).click()
    classmate.get_by_role("button", name="Train", exact=True).click()
    same_laptop.get_by_text(ONE_NETWORK).wait_for(timeout=60_000)
    leave = classmate.get_by_role("button", name=re.compile(r"^(Leave the queue|Stop)$"))
    leave.wait_for(timeout=60_000)  # its run is queued (or already training): admitted
    assert classmate.get_by_text(ONE_NETWORK).count() == 0, "the classmate's laptop was taken for the student's"
    leave.click()


def rehearse(browser, laptops: list[Laptop], args) -> dict:
    mark, replicas = args.mark, dict(args.replica)
    url = laptops[0].url  # the student's laptop
    timings: dict[str, float] = {}
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    same_laptop = browser.new_page(extra_http_headers=FORGED)  # a second browser of the student's laptop
    classmate = browser.new_page()
    for other in (page, same_laptop, classmate):
        other.set_default_timeout(30_000)
    # The other browsers open the lab while the student does (all three load at once).
    same_laptop.goto(f"{url}/distillation_lab?{OTHER_LAB}&seed=4301", wait_until="commit")
    classmate.goto(f"{laptops[1].url}/distillation_lab?{OTHER_LAB}&seed=4302", wait_until="commit")

    # Run 1: a class link, Train, live curves while a Ray worker trains, the result.
    page.goto(f"{url}/distillation_lab?class={CLASS}&{RUN_1_MODELS}&{RUN_1[args.data]}")
    page.get_by_text(f"Your runs count for class {CLASS}").wait_for(timeout=60_000)
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for()
    for other in (same_laptop, classmate):
        other.get_by_role("button", name="Train", exact=True).wait_for(timeout=60_000)
    pressed = time.monotonic()
    train.click()
    two_clients(same_laptop, classmate)
    timings["two_clients_s"] = time.monotonic() - pressed
    same_laptop.close()
    classmate.close()
    print("rehearsal: two laptops through nginx are two clients (one network: one job each)", file=sys.stderr)
    on_ray = wait_for(lambda: ray_tasks(mark), RUN_SECONDS, "run 1 training in a Ray worker of this rehearsal")
    see_live_curves(page)
    page.get_by_text("Result of run 1").wait_for(timeout=RUN_SECONDS * 1000)
    timings["train_s"] = time.monotonic() - pressed
    token = parse_qs(urlparse(page.url).query)["s"][0]
    first = serving_replica(args.access_log)
    print(f"rehearsal: run 1 trained on Ray (worker pid {on_ray[0]}) via replica :{first}", file=sys.stderr)

    # Run 2, long; the replica serving the student crashes while a Ray worker trains it.
    page.goto(f"{url}/distillation_lab?s={token}&class={CLASS}&{RUN_2}")
    page.get_by_text(f"Your runs count for class {CLASS}").wait_for(timeout=60_000)
    train.click()
    wait_for(lambda: ray_tasks(mark), RUN_SECONDS, "run 2 training in a Ray worker")
    see_live_curves(page)
    assert serving_replica(args.access_log) == first, "ip_hash moved the student before any replica failed"
    os.kill(replicas[first], signal.SIGKILL)
    killed = time.monotonic()

    page.reload()  # through nginx, which finds the replica gone and passes the student to the other
    page.get_by_text("Result of run 1").wait_for(timeout=90_000)
    timings["failover_s"] = time.monotonic() - killed
    other = serving_replica(args.access_log)
    assert other != first and other in replicas, f"served by :{other} after :{first} died"
    wait_for(lambda: not ray_tasks(mark), 60, "Ray ending the dead replica's task")

    def cut_off_listed() -> bool:
        page.reload()
        page.get_by_text("Result of run 1").wait_for(timeout=60_000)
        return page.get_by_text("Run 2 was cut off").count() > 0

    wait_for(cut_off_listed, args.stale_seconds + 60, "run 2 listed as cut off", every=1.0)
    timings["cut_off_s"] = time.monotonic() - killed
    print(f"rehearsal: replica :{first} killed; :{other} shows run 1 and run 2 cut off", file=sys.stderr)

    page.goto(f"{url}/class_board?class={CLASS}")
    page.get_by_text("1 run by 1 student").wait_for(timeout=60_000)
    page.locator(".st-key-board-groups .main-svg").first.wait_for()  # one training: the groups figure, no T scatter
    assert serving_replica(args.access_log) == other
    return timings


def replica(text: str) -> tuple[str, int]:
    port, pid = text.split("=")
    return port, int(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="nginx's address, e.g. http://127.0.0.1:8080")
    parser.add_argument("--access-log", type=Path, required=True, help="nginx's access log (logs $upstream_addr)")
    parser.add_argument("--mark", required=True, help="REHEARSAL_MARK of the processes the rehearsal started")
    parser.add_argument("--replica", type=replica, action="append", required=True, help="PORT=PID, one per replica")
    parser.add_argument("--stale-seconds", type=float, required=True, help="KDLAB_HEARTBEAT_STALE_SECONDS")
    parser.add_argument("--data", choices=sorted(RUN_1), required=True, help="full MNIST or the offline sample")
    parser.add_argument("--out", type=Path, required=True, help="where the timings go (JSON)")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    nginx = urlparse(args.url)
    laptops = [Laptop((nginx.hostname, nginx.port), source) for source in LAPTOPS]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            timings = rehearse(browser, laptops, args)
        except Exception:
            pages = [page for context in browser.contexts for page in context.pages]
            for number, page in enumerate(pages):  # kept with the logs
                page.screenshot(path=str(args.out.with_suffix(f".{number}.png")))
            raise
        finally:
            browser.close()
            for laptop in laptops:
                laptop.close()
    args.out.write_text(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
