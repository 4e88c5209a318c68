"""The service as an operator runs it: ``autograder serve`` and ``autograder worker`` processes.

Each process is ``sys.executable -m grader.cli …`` with settings in its
environment, its working directory in the test's folder (so no ``.env`` of the
developer's is read) and its log (JSON lines) in a file of its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from grader.config import PROJECT_ROOT
from grader.grading.sandbox.lease import lease_uids

SUBMISSIONS = PROJECT_ROOT / "tests" / "grading" / "submissions"


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def leased_uids(first: int, count: int) -> Iterator[range]:
    """A block of sandbox uids leased for the service a test starts (``GRADER_SANDBOX_UID_LEASE=false`` there).

    Leased here, no other grader on the machine (another test session, a running
    service) runs a sandbox on them, so the test may count what is left on them.
    """
    if os.geteuid() != 0:
        yield range(first, first + count)
        return
    lease = lease_uids(first, count)
    try:
        yield lease.uids
    finally:
        lease.release()


def processes_of_uids(uids: range) -> list[str]:
    """``pid uid command`` of every live process running as one of ``uids``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            if uid not in uids:
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != "Z":
            found.append(f"{entry.name} uid={uid} {command[:120]}")
    return found


@dataclass
class Process:
    """One started service process and the file its output goes to."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    def events(self) -> list[dict]:
        """The JSON log records this process wrote (other lines are skipped)."""
        records = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return records

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit status."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout=timeout)


@dataclass
class Service:
    """Settings shared by the web process and the workers, and the processes started so far."""

    folder: Path
    environment: dict[str, str]
    port: int = field(default_factory=free_port)
    processes: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, name: str, *arguments: str, **overrides: str) -> Process:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            **self.environment,
            **overrides,
        }
        log_path = self.folder / f"{name}-{len(self.processes)}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                [sys.executable, "-m", "grader.cli", *arguments],
                cwd=self.folder,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def start_web(self) -> Process:
        """``autograder serve`` with no embedded worker; returns once ``/healthz`` answers."""
        web = self._start("web", "serve", "--port", str(self.port), GRADER_EMBEDDED_WORKER="false")
        self._wait_for_health(web)
        return web

    def start_embedded(self, **overrides: str) -> Process:
        """``autograder serve`` as on one machine (its grading worker inside); returns once ``/healthz`` answers."""
        web = self._start("web", "serve", "--port", str(self.port), "--skip-selftest", **overrides)
        self._wait_for_health(web)
        return web

    def _wait_for_health(self, web: Process) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if web.popen.poll() is not None:
                raise AssertionError(f"the web service exited:\n{web.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the web service did not answer:\n{web.log_path.read_text()[-3000:]}")

    def run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """One ``autograder`` command with this service's settings, run to its end."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            **self.environment,
        }
        return subprocess.run(
            [sys.executable, "-m", "grader.cli", *arguments],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def upload(self, token: str, source: bytes) -> httpx.Response:
        """A learner's upload of ``source`` to message-echo through the API, as ``curl -F file=@…`` sends it."""
        return httpx.post(
            f"{self.url}/api/v1/exercises/message-echo/submissions",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("solution.py", source, "text/x-python")},
            timeout=60,
        )

    def start_worker(self, **overrides: str) -> Process:
        """``autograder worker`` (the self-test is the sandbox tests' business, not this one's)."""
        return self._start("worker", "worker", "--skip-selftest", **overrides)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.popen.pid, signal.SIGKILL)
                process.popen.wait(timeout=10)

    def stored_counts(self) -> Counter:
        """How many times each submission id's result was stored, over every worker's log."""
        counts: Counter = Counter()
        for process in self.processes:
            if process.name == "worker":
                for record in process.events():
                    if record.get("event") == "result-stored":
                        counts[record["submission_id"]] += 1
        return counts
