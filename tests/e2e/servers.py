"""Database and queue servers of a test's own, to stop and start under a running service.

The machine's shared PostgreSQL and Redis are never restarted: a test that
needs a server to go away makes a throwaway one on a loopback port (a
PostgreSQL cluster made with ``initdb`` and run with ``pg_ctl`` as the
``postgres`` user; a ``redis-server`` that keeps nothing on disk), and removes
it afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from .service import free_port


def postgres_binaries() -> Path | None:
    """The folder of PostgreSQL's server programs on this machine, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class OwnPostgres:
    """A PostgreSQL cluster of one test, on ``port``, that the test may stop, start and restart."""

    folder: Path
    port: int
    binaries: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *arguments: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(self.binaries / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-l",
                str(self.folder / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                *arguments,
            ],
            check=True,
            capture_output=True,
        )

    @classmethod
    def create(cls) -> OwnPostgres:
        """A new cluster in a folder of its own under the system's temporary folder (the server's user
        cannot enter pytest's private ones), started."""
        binaries = postgres_binaries()
        assert binaries is not None
        folder = Path(tempfile.mkdtemp(prefix="grader-test-postgres-"))
        shutil.chown(folder, "postgres", "postgres")
        os.chmod(folder, 0o700)
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(binaries / "initdb"),
                "-D",
                str(folder / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        server = cls(folder=folder, port=free_port(), binaries=binaries)
        server.start()
        return server

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        self._pg_ctl("stop", "-m", mode)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class OwnRedis:
    """A ``redis-server`` of one test on ``port``, keeping nothing on disk; stopped and started at will."""

    folder: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        import redis

        client = redis.Redis.from_url(self.url)
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.exceptions.ConnectionError:
                    assert time.monotonic() < deadline, "redis-server did not start"
                    time.sleep(0.05)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


def wait_ready(url: str, timeout: float = 60) -> None:
    """Until the service's /readyz says 200."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        try:
            response = httpx.get(f"{url}/readyz", timeout=5)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        assert time.monotonic() < deadline, f"the service did not become ready: {last}"
        time.sleep(0.3)
