"""A real service for the browser tests: ``autograder serve`` on a free port with a temporary state.

The server runs as its own process exactly as an operator starts it (migrations,
content sync, first instructor, embedded grading worker with the real sandbox),
and Chromium from Debian drives it through Playwright.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from grader.config import PROJECT_ROOT

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
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
INSTRUCTOR_EMAIL = "teacher@example.org"
INSTRUCTOR_PASSWORD = "teacher-password-1"
JOIN_CODE = "BROWSER-JOIN"


@dataclass(frozen=True)
class Service:
    """The running service: where it listens and how to sign in as its instructor."""

    base_url: str
    state_dir: Path
    log: Path
    environment: dict[str, str]
    """The service's environment: an ``autograder`` command run with it acts on the same state."""

    def run(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """One ``autograder`` command on the service's state (``sync-content`` after an edit, say)."""
        return subprocess.run(
            [sys.executable, "-m", "grader.cli", *arguments],
            cwd=self.state_dir,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def service_env() -> dict[str, str]:
    """Settings of the service a module needs besides the usual ones (a module overrides this)."""
    return {}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, service_env: dict[str, str]) -> Iterator[Service]:
    """``autograder serve`` with the embedded worker, stopped at the end of the module."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (scripts/test does)")
    state = tmp_path_factory.mktemp("service")
    port = _free_port()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GRADER_")},
        "GRADER_ENVIRONMENT": "test",
        "GRADER_STATE_DIR": str(state),
        "GRADER_SECRET_KEY": "browser-test-secret-key-0123456789",
        "GRADER_JOIN_CODE": JOIN_CODE,
        "GRADER_FIRST_INSTRUCTOR_EMAIL": INSTRUCTOR_EMAIL,
        "GRADER_FIRST_INSTRUCTOR_PASSWORD": INSTRUCTOR_PASSWORD,
        "GRADER_SUBMISSION_INTERVAL_SECONDS": "2",
        **service_env,
    }
    log = state / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "grader.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=state,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url, process, log)
        yield Service(base_url=base_url, state_dir=state, log=log, environment=env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(base_url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the service exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/login", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the service did not start within {timeout} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots are kept (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def sign_up(page, *, email: str, name: str, password: str, join_code: str = JOIN_CODE) -> None:
    """Create a learner account through the sign-up page with a course's join code (the default course's)."""
    from playwright.sync_api import expect

    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Join code").fill(join_code)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Hello, {name}")).to_be_visible()


def option_texts(question) -> list[str]:
    """A quiz question's options as shown, in order, without their letters (which follow the order shown)."""
    labels = question.locator("label.choice").all_inner_texts()
    assert [label[:2] for label in labels] == ["A.", "B.", "C.", "D."][: len(labels)], labels
    return [label[3:].strip() for label in labels]


def choose(question, text: str) -> None:
    """Choose the option of a quiz question whose text is ``text``, wherever this attempt shows it."""
    position = option_texts(question).index(text)
    question.locator("label.choice").nth(position).locator("input").check()


def sign_in(page, *, email: str, password: str) -> None:
    """Sign in through the sign-in page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
