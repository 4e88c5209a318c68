"""Shared by the service benchmarks: start ``autograder serve``/``worker``, make learners, upload, wait.

Our own reference solution is the only code graded; the service runs exactly as
an operator starts it (``python -m grader.cli``), in a temporary state folder.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "solution.py"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:7.0f} ms   p95 {percentile(values, 0.95) * 1000:7.0f} ms"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Service:
    """A running service: its settings (environment), processes and URL."""

    environment: dict[str, str]
    project: Path = ROOT
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="grader-bench-")))
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONPATH": str(self.project),
            "GRADER_STATE_DIR": str(self.folder / "state"),
            "GRADER_SECRET_KEY": "benchmark-secret-key-long-enough",
            "GRADER_ENVIRONMENT": "test",
            "GRADER_FIRST_INSTRUCTOR_EMAIL": "bench-teacher@example.org",
            "GRADER_FIRST_INSTRUCTOR_PASSWORD": "benchmark teacher password",
            **self.environment,
            **extra,
        }
        return env

    def start(self, *arguments: str, **extra: str) -> subprocess.Popen:
        log = (self.folder / f"{arguments[0]}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", *arguments],
            cwd=self.folder,
            env=self._env(extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def start_web(self, **extra: str) -> None:
        web = self.start("serve", "--port", str(self.port), "--skip-selftest", **extra)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise SystemExit(f"the web service exited; see {self.folder}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
                if httpx.get(f"{self.url}/login", timeout=2).status_code == 200:  # before /healthz existed
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("the web service did not answer")

    def learner_tokens(self, count: int) -> list[str]:
        """``count`` new learners, and an API token for each (made in the database directly)."""
        sys.path.insert(0, str(ROOT))
        from sqlmodel import Session

        from grader.config import Settings
        from grader.db import create_db_engine
        from grader.models import User
        from grader.services import tokens, users

        settings = Settings(
            _env_file=None, secret_key=self._env({})["GRADER_SECRET_KEY"], state_dir=self.folder / "state"
        )
        url = self.environment.get("GRADER_DATABASE_URL") or f"sqlite:///{self.folder / 'state' / 'grader.sqlite3'}"
        engine = create_db_engine(url)
        password_hash = users.hash_password("benchmark learner password")
        stamp = time.monotonic_ns()
        made = []
        with Session(engine) as session:
            for number in range(count):
                user = User(
                    email=f"bench{stamp}-{number}@example.org",
                    display_name=f"Bench {number}",
                    role="learner",
                    password_hash=password_hash,
                )
                session.add(user)
                made.append(user)
            session.commit()
            result = [tokens.issue(session=session, user=user, settings=settings).secret for user in made]
        engine.dispose()
        return result

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def upload(client: httpx.Client, service: Service, token: str, source: bytes) -> int:
    response = client.post(
        f"{service.url}/api/v1/exercises/message-echo/submissions",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("solution.py", source, "text/x-python")},
    )
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.status_code} {response.text}")
    return response.json()["id"]


def wait_graded(client: httpx.Client, service: Service, token: str, submission_id: int, every: float = 0.005) -> dict:
    while True:
        response = client.get(
            f"{service.url}/api/v1/submissions/{submission_id}", headers={"Authorization": f"Bearer {token}"}
        )
        body = response.json()
        if body["status"] == "graded":
            return body
        time.sleep(every)
