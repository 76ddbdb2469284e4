"""A throwaway PostgreSQL cluster for the tests: started in a folder on a free local port, stopped and removed after.

    python tests/postgres.py start DIR   # prints postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
    python tests/postgres.py stop DIR    # stops the cluster and removes DIR

``.ci/run`` starts one, exports the URL as ``PYTEST_POSTGRES_URL`` and stops it on exit. The cluster
trusts local connections and runs without fsync: it holds nothing but test data. PostgreSQL refuses to run
as root, so as root the cluster belongs to the ``postgres`` user (``runuser``), as the Debian package sets up.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

BIN_ROOT = Path("/usr/lib/postgresql")
URL = "postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    versions = sorted(BIN_ROOT.glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    return versions[-1].parent if versions else None


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def free_port() -> int:
    """A TCP port no one listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_cluster(folder: Path) -> str:
    """Initialise and start a cluster in ``folder`` (created); returns its SQLAlchemy URL."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError(f"PostgreSQL is not installed (no {BIN_ROOT}/*/bin/initdb): apt-get install postgresql")
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    quiet = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    subprocess.run(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres"]), **quiet)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]
    subprocess.run(_as_owner(start), **quiet)
    return URL.format(port=port)


def stop_cluster(folder: Path) -> None:
    """Stop the cluster in ``folder`` (if it runs) and remove the folder."""
    bin_dir = postgres_bin()
    if bin_dir is not None and (folder / "data" / "postmaster.pid").exists():
        stop = [str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"]
        subprocess.run(_as_owner(stop), check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/postgres.py start|stop DIR", file=sys.stderr)
        return 2
    folder = Path(argv[1])
    if argv[0] == "stop":
        stop_cluster(folder)
        return 0
    try:
        print(start_cluster(folder))
    except (RuntimeError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        print(f"PostgreSQL did not start: {error} {detail.decode(errors='replace').strip()}", file=sys.stderr)
        stop_cluster(folder)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
