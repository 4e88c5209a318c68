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
LEARNER_PASSWORD = "benchmark learner password"


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
        return [token for _, token in self.learners(count)]

    def learners(self, count: int) -> list[tuple[str, str]]:
        """``count`` new learners (password ``LEARNER_PASSWORD``): each one's e-mail and an API token."""
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
        password_hash = users.hash_password(LEARNER_PASSWORD)
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
            result = [(user.email, tokens.issue(session=session, user=user, settings=settings).secret) for user in made]
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
    """The submission once graded, asked with the API's long poll (``?wait=``).

    A service without the long poll answers at once; then this asks again every ``every`` seconds.
    """
    while True:
        response = client.get(
            f"{service.url}/api/v1/submissions/{submission_id}",
            params={"wait": 60},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        if body["status"] == "graded":
            return body
        time.sleep(every)


def sign_in(client: httpx.Client, service: Service, email: str, password: str = LEARNER_PASSWORD) -> None:
    """Sign ``client`` in through the login form, as a browser does (the session cookie stays in it)."""
    import re

    page = client.get(f"{service.url}/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if match is None:
        raise SystemExit("the login page has no CSRF token")
    response = client.post(
        f"{service.url}/login",
        data={"email": email, "password": password, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise SystemExit(f"sign-in refused: {response.status_code} {response.text[:300]}")


def postgres_database(server_url: str):
    """A fresh database on the PostgreSQL server at ``server_url``, migrated: its URL and a function dropping it."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from grader.db import migrate, normalize_url

    name = f"grader_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalize_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(server_url)).set(database=name).render_as_string(hide_password=False)
    from grader.db import create_db_engine

    engine = create_db_engine(url)
    migrate(engine)
    engine.dispose()

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop
