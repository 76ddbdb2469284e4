"""Classroom load: N students press Train at once in real browsers; how long until each has a
result, how much CPU the server spends per result, how fast page switches stay meanwhile, and how
much memory the server takes.

Starts ``streamlit run app.py`` on a free localhost port with a temporary cache and database
(the cached teachers are copied in first and ``kdlab prepare`` trains any missing one, so no
teacher trains during the runs), opens N headless Chromium
sessions (Debian's /usr/bin/chromium through playwright; never ``playwright install``), each on a
lab link, and presses Train in all of them within a second:

- ``--mode lesson``: the class follows one lesson link (one seed) with temperatures spread from 1
  to 20 over the lab's values (as ``python -m kdlab bench classroom`` does; students with the same
  T follow one live run, and the student alone is trained once and shared);
- ``--mode free``: each student has a seed of their own, so every run trains.
 Meanwhile one more session switches pages in a loop (Home, explorer,
Runs, lab) and times each switch: click on the navigation link until the new page has run to
the end. The server's resident memory is read from /proc every second, and its CPU time (the
server process with its training workers, every thread, browsers excluded) from the first click to
the last result, divided by the results: ``cpu_seconds_per_result``; the browsers' CPU over the same
span is ``class_browsers_cpu_seconds``. ``--py-spy FILE`` samples the server meanwhile
(``pip install py-spy``; collapsed stacks in FILE, the top functions on stderr). Localhost only, N
and the run time are capped, and the server is stopped at the end, whatever happens. The last line
on stderr is a one-line summary; ``--json`` prints the whole report on stdout.

``--tab-cost`` adds one instrumented student once the class has its results (so that neither measurement
disturbs the other), in a Chromium of its own, on a lab link with a seed of its own, ``--tab-epochs`` epochs
and ``--tab-train-size`` images (so that its run stays live longer than the measurement): from the moment its
live view shows the running progress bar, for ``--tab-seconds`` seconds (or until its result), the CPU time
of its Chromium (every process: browser, renderer, GPU, from /proc), the bytes of the websocket frames it
receives (Streamlit's forward messages) and its refreshes (bursts of frames); reported as ``tab_cost``: CPU
seconds per 20 s and bytes per minute of a live run.

    python bench/classroom_load.py --students 30 --mode lesson --data-dir ../shared/data [--json]
    python bench/classroom_load.py --students 8 --mode free --data-dir ../shared/data
    python bench/classroom_load.py --students 2 --mode lesson --data-dir ../shared/data --tab-cost

Run it on an otherwise idle machine: the browsers share its CPU with the server (in a real
classroom they run on the students' machines), so the numbers are an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's kdlab (the lab's temperatures, its link format)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_STUDENTS = 40
FIRST_SEED = 100  # students' seeds: none of the lessons' (1 to 4) nor the default (0)
TAB_SEED = 99  # the instrumented tab's: none of the students'
SERVER_START_SECONDS = 90
SWITCH_PAGES = [
    ("Home", "Knowledge distillation, live on MNIST"),
    ("Dark knowledge explorer", "Dark knowledge explorer"),
    ("Runs", "Runs"),
    ("Distillation lab", "Distillation lab"),
]
ERRORS = ["These settings cannot run", "The run cannot start", "The run failed", "The training queue is full"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_megabytes(pid: int) -> float | None:
    """Resident memory of ``pid`` from /proc (no psutil needed)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) ``pid`` has used, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def family(root: int, exclude: int | None = None) -> set[int]:
    """``root`` and every living descendant of it, leaving out ``exclude`` and its descendants."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    members, grew = {root}, True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in members and pid != exclude} - members
        members |= children
        grew = bool(children)
    return members


def descendants_cpu_seconds(root: int, exclude: int) -> float:
    """CPU time used so far by every living descendant of ``root`` outside ``exclude``'s family
    (here: the browsers and their driver, not the server)."""
    return sum(cpu_seconds(pid) or 0.0 for pid in family(root, exclude) - {root})


def server_cpu_seconds(pid: int) -> float:
    """CPU time the server has used so far, with its training worker processes (kdlab.serve.process_runner)."""
    return sum(cpu_seconds(member) or 0.0 for member in family(pid))


def server_rss_megabytes(pid: int) -> float | None:
    """Resident memory of the server with its training worker processes (shared pages counted in each)."""
    sizes = [size for member in family(pid) if (size := rss_megabytes(member)) is not None]
    return sum(sizes) if sizes else None


class MemorySampler(threading.Thread):
    """Samples a process's resident memory, and the machine's load average, every ``interval``
    seconds until stopped (the load shows whether other programs shared the CPU)."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.samples, self.loads = pid, interval, [], []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            value = server_rss_megabytes(self.pid)
            if value is not None:
                self.samples.append(value)
            self.loads.append(os.getloadavg()[0])
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()


def start_server(folder: Path, data_dir: str | None, port: int, extra_env: dict) -> subprocess.Popen:
    env = {**os.environ, "KDLAB_CACHE_DIR": str(folder / "cache"), **extra_env}
    env.pop("KDLAB_DATABASE_URL", None)  # a fresh SQLite database in the temporary cache
    if data_dir:
        env["KDLAB_DATA_DIR"] = str(Path(data_dir).resolve())
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(folder / "streamlit.log", "w")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + SERVER_START_SECONDS
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{(folder / 'streamlit.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not answer within {SERVER_START_SECONDS} s")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def class_links(mode: str, students: int, extra: dict | None = None) -> list[dict]:
    """Each student's lab link parameters: a lesson's one seed and spread of temperatures (the
    spread ``python -m kdlab bench classroom`` uses), or a seed each (free)."""
    from kdlab.cli.classroom import class_configs

    configs = class_configs(mode, students)
    if mode == "lesson":
        links = [{"T": config.training.temperature, "seed": FIRST_SEED} for config in configs]
    else:
        links = [{"seed": FIRST_SEED + index} for index in range(students)]
    return [{**link, **(extra or {})} for link in links]


async def open_lab(browser, url: str, params: dict, timeout_ms: int, on_websocket=None):
    """A new student (own browser context, own session) on the lab link with ``params``; returns the page
    (``on_websocket`` is given each websocket the page opens)."""
    from kdlab.classroom.urls import query_string

    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    if on_websocket is not None:
        page.on("websocket", on_websocket)
    await page.goto(f"{url}/distillation_lab?{query_string(params)}")
    await page.get_by_role("button", name="Train", exact=True).wait_for()
    seed = params["seed"]
    await page.wait_for_function(  # the link's settings are in the controls and the script has ended
        f"document.querySelector('.st-key-lab-seed input')?.value === '{seed}' && "
        f"document.querySelector('{IDLE}') !== null"
    )
    await page.wait_for_timeout(500)
    await page.locator(IDLE).wait_for()
    return page


async def wait_for_result(page, clicked: float, deadline: float) -> dict:
    """Seconds from the click on Train until the result shows, and how it came (or the error)."""
    while time.monotonic() < deadline:
        if await page.get_by_text("Result of run").count():
            how = "joined" if await page.get_by_text("Another student started exactly this run").count() else "trained"
            if await page.get_by_text("was trained earlier on this server").count():
                how = "cache"
            return {"seconds": round(time.monotonic() - clicked, 1), "how": how, "error": None}
        for message in ERRORS:
            if await page.get_by_text(message).count():
                text = await page.get_by_text(message).first.inner_text()
                return {"seconds": round(time.monotonic() - clicked, 1), "how": None, "error": text[:300]}
        if await page.get_by_test_id("stException").count():
            return {"seconds": round(time.monotonic() - clicked, 1), "how": None, "error": "exception on the page"}
        await asyncio.sleep(0.25)
    return {"seconds": None, "how": None, "error": "no result before the time limit"}


async def switch_pages(browser, url: str, done: asyncio.Event, timeout_ms: int) -> list[dict]:
    """Another visitor walks the navigation until every result is in; each switch timed."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    await page.goto(url)
    await page.locator(IDLE).wait_for()
    switches, index = [], 0
    while not done.is_set():
        link, title = SWITCH_PAGES[index % len(SWITCH_PAGES)]
        index += 1
        started = time.monotonic()
        try:
            await page.locator(".st-key-navigation").get_by_text(link, exact=True).click()
            await page.locator("h1").filter(has_text=title).first.wait_for()
            await page.locator(IDLE).wait_for()
            switches.append({"page": link, "seconds": round(time.monotonic() - started, 2)})
        except Exception as error:  # a timeout is a result here, not a crash
            switches.append({"page": link, "seconds": None, "error": type(error).__name__})
        await asyncio.sleep(1.0)  # a student reads for a moment before the next click
    await context.close()
    return switches


def chromium_roots() -> set[int]:
    """This benchmark's Chromium browser processes (not their children) running now."""
    return {pid for pid in family(os.getpid()) if "chrom" in name(pid) and "chrom" not in name(parent(pid))}


def name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


class InstrumentedTab:
    """One student's tab in a Chromium of its own: its processes' CPU time and the websocket bytes it receives."""

    def __init__(self) -> None:
        self.browser, self.root, self.page = None, None, None
        self.received_bytes, self.received_frames, self.arrivals = 0, 0, []

    async def open(self, playwright, url: str, params: dict, timeout_ms: int) -> None:
        before = chromium_roots()
        self.browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        started = chromium_roots() - before
        if len(started) != 1:
            raise RuntimeError(f"cannot tell the instrumented Chromium among {sorted(started)}")
        self.root = started.pop()
        self.page = await open_lab(self.browser, url, params, timeout_ms, on_websocket=self.watch)

    def watch(self, websocket) -> None:
        websocket.on("framereceived", self.count)

    def count(self, payload) -> None:
        self.received_bytes += len(payload)
        self.received_frames += 1
        self.arrivals.append(time.monotonic())

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(pid) or 0.0 for pid in family(self.root))

    async def measure(self, clicked: float, seconds: float, deadline: float) -> dict:
        """Wait for the live run's progress bar, then CPU and bytes over ``seconds`` (or until the result)."""
        running = self.page.get_by_test_id("stProgress").filter(has_text="so far")
        while not await running.count():
            if time.monotonic() > deadline or await self.page.get_by_text("Result of run").count():
                return {"error": "the tab's run never showed live"}
            await asyncio.sleep(0.1)
        live_after = time.monotonic() - clicked
        cpu, received, frames, began = self.cpu_seconds(), self.received_bytes, self.received_frames, time.monotonic()
        while time.monotonic() - began < seconds and not await self.page.get_by_text("Result of run").count():
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - began
        cpu, received = self.cpu_seconds() - cpu, self.received_bytes - received
        arrivals = [moment for moment in self.arrivals if moment >= began]
        # a refresh is a burst of frames (a fragment's run); bursts are seconds apart
        refreshes = sum(1 for before, after in zip([began - 1, *arrivals], arrivals) if after - before > 0.5)
        return {
            "live_after_click_seconds": round(live_after, 1),
            "measured_seconds": round(elapsed, 1),
            "cpu_seconds": round(cpu, 2),
            "cpu_seconds_per_20s": round(cpu * 20 / elapsed, 2),
            "received_bytes": received,
            "received_frames": self.received_frames - frames,
            "received_bytes_per_minute": round(received * 60 / elapsed),
            "refreshes_per_20s": round(refreshes * 20 / elapsed, 1),
            "error": None,
        }


async def drive(
    url: str, links: list[dict], limit: float, server_pid: int, profile: str | None, tab: dict | None = None
) -> dict:
    from playwright.async_api import async_playwright

    timeout_ms = int(limit * 1000)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        instrumented = InstrumentedTab() if tab is not None else None
        try:
            pages = [await open_lab(browser, url, params, timeout_ms) for params in links]
            done = asyncio.Event()
            switcher = asyncio.create_task(switch_pages(browser, url, done, timeout_ms))
            await asyncio.sleep(3)  # a few switches on the idle server first
            deadline = time.monotonic() + limit
            spy = start_py_spy(server_pid, profile) if profile else None
            cpu_at_click, clicks = server_cpu_seconds(server_pid), []
            browsers_at_click = descendants_cpu_seconds(os.getpid(), exclude=server_pid)
            for page in pages:
                await page.get_by_role("button", name="Train", exact=True).click()
                clicks.append(time.monotonic())
            spread = clicks[-1] - clicks[0]
            results = await asyncio.gather(
                *(wait_for_result(page, clicked, deadline) for page, clicked in zip(pages, clicks))
            )
            class_cpu = server_cpu_seconds(server_pid) - cpu_at_click
            class_browsers_cpu = descendants_cpu_seconds(os.getpid(), exclude=server_pid) - browsers_at_click
            if spy is not None:
                stop_py_spy(spy)
            done.set()
            switches = await switcher
            browsers_cpu = descendants_cpu_seconds(os.getpid(), exclude=server_pid)
            if instrumented is not None:  # after the class: neither measurement disturbs the other
                await instrumented.open(playwright, url, tab["params"], timeout_ms)
                await instrumented.page.get_by_role("button", name="Train", exact=True).click()
                tab_cost = await instrumented.measure(time.monotonic(), tab["seconds"], time.monotonic() + limit)
        finally:
            await browser.close()
            if instrumented is not None and instrumented.browser is not None:
                await instrumented.browser.close()
    finished = sum(1 for result in results if result["seconds"] is not None and not result["error"])
    return {
        "results": [{**params, **result} for params, result in zip(links, results)],
        "click_spread_seconds": round(spread, 2),
        "switches": switches,
        "browsers_cpu_seconds": round(browsers_cpu, 1),
        "class_server_cpu_seconds": round(class_cpu, 1),
        "class_browsers_cpu_seconds": round(class_browsers_cpu, 1),
        "cpu_seconds_per_result": round(class_cpu / finished, 2) if finished else None,
        **({"tab_cost": {**tab_cost, **tab["params"]}} if tab is not None else {}),
    }


def start_py_spy(pid: int, path: str) -> subprocess.Popen:
    """py-spy sampling ``pid`` (every thread, idle ones left out) into ``path`` as collapsed stacks."""
    command = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--output", path, "--rate", "50"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_py_spy(process: subprocess.Popen) -> None:
    process.send_signal(2)  # SIGINT: py-spy writes its file and exits
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def top_functions(path: str, count: int = 15) -> list[tuple[str, float]]:
    """The functions holding the most samples in a py-spy raw file (inclusive, share of all samples)."""
    inclusive: dict[str, int] = {}
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        total += int(samples)
        for frame in set(stack.split(";")):
            inclusive[frame] = inclusive.get(frame, 0) + int(samples)
    ranked = sorted(inclusive.items(), key=lambda item: -item[1])[:count]
    return [(frame, round(samples / max(1, total), 3)) for frame, samples in ranked]


def summarize(report: dict) -> list[str]:
    results, switches, memory = report["results"], report["switches"], report["server_rss_mb"]
    times = [result["seconds"] for result in results if result["seconds"] is not None and not result["error"]]
    lines = [
        f"{report['students']} students ({report['mode']}) on {report['data']} ({report['cores']} cores, KDLAB_MAX_JOBS "
        f"{report['max_jobs']}); Train pressed within {report['click_spread_seconds']} s"
    ]
    for result in results:
        outcome = result["error"] or result["how"]
        temperature = f", T = {result['T']:g}" if "T" in result else ""
        lines.append(f"  seed {result['seed']:>3}{temperature}: {result['seconds']} s ({outcome})")
    if times:
        lines.append(
            f"results: first {min(times)} s, median {statistics.median(times):.1f} s, last {max(times)} s; "
            f"{len(times)} of {len(results)} without error"
        )
    timed = [switch["seconds"] for switch in switches if switch["seconds"] is not None]
    if timed:
        timed.sort()
        lines.append(
            f"page switches meanwhile: {len(timed)} timed, median {statistics.median(timed):.2f} s, "
            f"95th percentile {timed[int(0.95 * (len(timed) - 1))]:.2f} s, max {timed[-1]:.2f} s, "
            f"{len(switches) - len(timed)} failed"
        )
    lines.append(
        f"server memory (RSS): {memory['start']} MB at start, peak {memory['peak']} MB, {memory['end']} MB at the end"
    )
    load = report["load_average"]
    lines.append(
        f"CPU time: server {report['server_cpu_seconds']} s, browsers {report['browsers_cpu_seconds']} s, "
        f"in {report['wall_seconds']} s of wall time on {report['cores']} cores; machine load average: "
        f"mean {load['mean']}, max {load['max']:.1f}"
    )
    tab = report.get("tab_cost")
    if tab is not None:
        lines.append(tab_line(tab))
    for frame, share in report.get("py_spy_top", []):
        lines.append(f"  py-spy {share:6.1%}  {frame}")
    lines.append(summary_line(report, times))
    return lines


def tab_line(tab: dict) -> str:
    """What one tab watching a live run costs its student's machine and the network."""
    if tab["error"]:
        return f"one tab watching a live run: {tab['error']}"
    return (
        f"one tab watching a live run ({tab['epochs']} epochs on {tab['train_size']:,} images, measured "
        f"{tab['measured_seconds']} s): Chromium CPU "
        f"{tab['cpu_seconds_per_20s']} s per 20 s, received {tab['received_bytes_per_minute'] / 1e3:,.0f} kB per "
        f"minute ({tab['received_frames']} websocket frames, {tab['refreshes_per_20s']} refreshes per 20 s)"
    )


def summary_line(report: dict, times: list[float]) -> str:
    """The one line to quote: the class's times beside the server's CPU per result."""
    last = f"first {min(times)} s, last {max(times)} s" if times else "no result"
    return (
        f"classroom_load {report['mode']} x{report['students']} ({report['data']}): {last}; server CPU "
        f"{report['class_server_cpu_seconds']} s for {len(times)} results = {report['cpu_seconds_per_result']} s "
        f"per result (browsers {report['class_browsers_cpu_seconds']} s meanwhile); load average {report['load_average']['mean']}"
        + (
            f"; a tab {tab['cpu_seconds_per_20s']} s CPU per 20 s, {tab['received_bytes_per_minute'] / 1e3:,.0f} kB a minute"
            if (tab := report.get("tab_cost")) and not tab["error"]
            else ""
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=8, help=f"browser sessions pressing Train (1..{MAX_STUDENTS})")
    parser.add_argument(
        "--mode",
        choices=("lesson", "free"),
        default="lesson",
        help="lesson (one seed, T 1..20) or free; default: lesson",
    )
    parser.add_argument("--data-dir", help="MNIST root for the server (KDLAB_DATA_DIR); default: the sample")
    parser.add_argument(
        "--teachers-from",
        default=str(Path.home() / ".cache" / "kdlab"),
        help="cache dir whose teachers/ are copied in first (default: ~/.cache/kdlab)",
    )
    parser.add_argument("--limit", type=float, default=600.0, help="seconds the runs may take (default: 600)")
    parser.add_argument("--py-spy", dest="profile", help="sample the server with py-spy into this file (raw format)")
    parser.add_argument("--tab-cost", action="store_true", help="measure one instrumented tab watching a live run")
    parser.add_argument("--tab-epochs", type=int, default=40, help="epochs of the tab's run (default: 40, the lab's)")
    parser.add_argument(
        "--tab-train-size", type=int, default=20_000, help="training images of the tab's run (default: 20000)"
    )
    parser.add_argument("--tab-seconds", type=float, default=30.0, help="seconds the tab is measured (default: 30)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    if not 1 <= args.students <= MAX_STUDENTS:
        parser.error(f"--students must be 1 to {MAX_STUDENTS}")
    if not Path(CHROMIUM).exists():
        parser.error(f"needs Debian's chromium at {CHROMIUM}")
    if args.profile and shutil.which("py-spy") is None:
        parser.error("--py-spy needs py-spy (pip install py-spy)")
    folder = prepared_cache(args.data_dir, args.teachers_from)
    report = {"students": args.students, "mode": args.mode, **run_class(folder, args)}
    for line in summarize(report):
        print(line, file=sys.stderr)
    if args.json:
        print(json.dumps(report))
    failed = [result for result in report["results"] if result["error"]]
    return 1 if failed else 0


def prepared_cache(data_dir: str | None, teachers_from: str) -> Path:
    """A temporary cache folder with every teacher the pages use (copied, or trained by ``kdlab prepare``),
    so the runs train students only. No warm-up: every run must really train."""
    folder = Path(tempfile.mkdtemp(prefix="kdlab-load-"))
    teachers = Path(teachers_from).expanduser() / "teachers"
    if teachers.is_dir():
        shutil.copytree(teachers, folder / "cache" / "teachers")
    prepare = [sys.executable, "-m", "kdlab", "prepare", "--skip-replays", "--no-warm"]
    prepare += ["--data-dir", data_dir] if data_dir else []
    env = {**os.environ, **server_env(folder, data_dir)}
    env.pop("KDLAB_DATABASE_URL", None)
    subprocess.run(prepare, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return folder


def server_env(folder: Path, data_dir: str | None) -> dict:
    """The variables the server (and ``kdlab prepare``) run with: the temporary cache, CPU, the data."""
    env = {"KDLAB_CACHE_DIR": str(folder / "cache"), "KDLAB_DEVICE": "cpu"}
    return {**env, "KDLAB_DATA_DIR": str(Path(data_dir).resolve())} if data_dir else {**env, "KDLAB_OFFLINE": "1"}


def run_class(folder: Path, args) -> dict:
    """Start the server, drive the class through the browsers, stop the server; the report's numbers."""
    port = free_port()
    server = start_server(folder, args.data_dir, port, server_env(folder, args.data_dir))
    sampler = MemorySampler(server.pid)
    sampler.start()
    cpu_before, wall_before = server_cpu_seconds(server.pid), time.monotonic()
    try:
        tab_link = {"seed": TAB_SEED, "epochs": args.tab_epochs, "train_size": args.tab_train_size}
        tab = {"params": tab_link, "seconds": args.tab_seconds}
        run = drive(
            f"http://127.0.0.1:{port}",
            class_links(args.mode, args.students),
            args.limit,
            server.pid,
            args.profile,
            tab if args.tab_cost else None,
        )
        driven = asyncio.run(asyncio.wait_for(run, timeout=args.limit + 300))
    finally:
        server_cpu = server_cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        sampler.stop()
        stop_server(server)
    samples = sampler.samples or [0.0]
    return {
        "data": "full MNIST" if args.data_dir else "offline sample",
        "cores": len(os.sched_getaffinity(0)),
        "max_jobs": os.environ.get("KDLAB_MAX_JOBS", "default"),
        **driven,
        "server_rss_mb": {"start": round(samples[0]), "peak": round(max(samples)), "end": round(samples[-1])},
        "server_cpu_seconds": round(server_cpu, 1),
        "wall_seconds": round(wall, 1),
        "load_average": {"mean": round(statistics.mean(sampler.loads or [0.0]), 1), "max": max(sampler.loads or [0.0])},
        "py_spy_top": top_functions(args.profile) if args.profile and Path(args.profile).exists() else [],
        "log": str(folder / "streamlit.log"),
    }


if __name__ == "__main__":
    sys.exit(main())
