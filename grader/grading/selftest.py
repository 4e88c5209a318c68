"""A confinement self-test: grade a few built-in hostile programs, then check the host.

The service runs it at start-up (``autograder selftest``) and refuses to serve if
any program escapes. Each program reports what it tried on its stdout after
``SELFTEST:``; that report only shows the program really ran. Whether it was
contained is decided on the host: the listener got no connection, the canary
never reached the report, no file appeared, no process is left.

A check whose program never ran counts as not contained: a sandbox that cannot
run anything proves nothing about confinement.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.grading.report import Report
from grader.grading.runner import grade_source
from grader.grading.sandbox import SandboxConfig, SandboxUnavailable, procfs
from grader.grading.sandbox.enforcement import PROCESS_COUNT, process_limit_expected
from grader.grading.sandbox.pool import SandboxPool
from grader.grading.sandbox.template import available as template_available
from grader.grading.spec import CaseSpec, ExerciseSpec, ExpectSpec, Limits, RequestSpec

PROBE_MARK = "SELFTEST:"
CANARY_ENV = "GRADER_SELFTEST_CANARY"
FORK_ATTEMPTS = 200
TEMPLATE_START_SECONDS = 30.0


@dataclass(frozen=True)
class SelftestResult:
    """The outcome of one built-in hostile program.

    name: which attack.
    contained: True when the host shows no sign of it having worked.
    detail: what was tried and what the host saw, in one line.
    """

    name: str
    contained: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data."""
        return asdict(self)


def run_selftest(
    config: SandboxConfig, names: Iterable[str] | None = None, *, template: bool = True
) -> list[SelftestResult]:
    """Grade every built-in hostile program (or those ``names``) in the sandbox and check the host after each.

    Each program runs in a sandbox started through bubblewrap and, when this
    grader can fork sandboxes from a template (and ``template`` is true), once
    more in a sandbox forked from one (named "… (forked)").
    """
    spec = _probe_exercise()
    wanted = set(CHECKS if names is None else names)
    unknown = wanted - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown self-test checks: {', '.join(sorted(unknown))}")
    results = _run_checks(spec, config, wanted, None)
    if template and template_available(config):
        with SandboxPool(config, size=1, max_kinds=1) as pool:
            if pool.wait_template(timeout=TEMPLATE_START_SECONDS):
                forked = _run_checks(spec, config, wanted, pool)
                results += [
                    SelftestResult(f"{result.name} (forked)", result.contained, result.detail) for result in forked
                ]
            else:
                # Not an escape: the pool then starts sandboxes one by one, as checked above.
                detail = pool.status().last_error or "it did not start in time"
                results.append(SelftestResult("sandbox template", True, f"not used: {detail}"))
    return results


def _run_checks(
    spec: ExerciseSpec, config: SandboxConfig, wanted: set[str], pool: SandboxPool | None
) -> list[SelftestResult]:
    results = []
    for name, check in _CHECKS:
        if name not in wanted:
            continue
        try:
            results.append(check(spec, config, pool))
        except SandboxUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a check that breaks must fail closed, not crash the start-up
            results.append(SelftestResult(name, False, f"the check itself failed: {type(exc).__name__}: {exc}"))
    return results


# --- the programs ---------------------------------------------------------------------

# Every program ends with this minimal ASGI app, so that it loads like a submission.
_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})
"""

_NETWORK = """
import json, socket
try:
    with socket.create_connection(("127.0.0.1", __PORT__), timeout=2) as conn:
        conn.sendall(b"escaped\\n")
    outcome = "connected"
except OSError as exc:
    outcome = f"{type(exc).__name__}: {exc.strerror or exc}"
print("SELFTEST:" + json.dumps({"outcome": outcome}), flush=True)
"""

_CANARY_FILE = """
import json
try:
    with open(__PATH__, "rb") as handle:
        data = handle.read(4096)
    outcome = "read"
    found = __CANARY_REVERSED__[::-1].encode() in data
except OSError as exc:
    outcome, found = f"{type(exc).__name__}: {exc.strerror}", False
print("SELFTEST:" + json.dumps({"outcome": outcome, "found": found}), flush=True)
"""

_WRITE_OUTSIDE = """
import json, os
outcomes = {}
for path in [__HOST_PATH__, "/opt/runtime/selftest-escape", "/usr/selftest-escape", "/selftest-escape",
             "/var/tmp/selftest-escape", "/tmp/selftest-inside"]:
    try:
        with open(path, "w") as handle:
            handle.write("escaped")
        outcomes[path] = "written"
    except OSError as exc:
        outcomes[path] = exc.strerror
print("SELFTEST:" + json.dumps({"outcomes": outcomes}), flush=True)
"""

_FORK_BOMB = """
import json, os, sys
forked, error = 0, None
for _ in range(__ATTEMPTS__):
    try:
        pid = os.fork()
    except OSError as exc:
        error = exc.strerror
        break
    if pid == 0:
        try:
            os.execv(sys.executable, [sys.executable, "-c", "import time\\nwhile True: time.sleep(1)", __MARKER__])
        finally:
            os._exit(0)
    forked += 1
print("SELFTEST:" + json.dumps({"forked": forked, "error": error}), flush=True)
"""

_ENVIRON = """
import json, os
canary = __CANARY_REVERSED__[::-1]
found = []
if canary in json.dumps(dict(os.environ)):
    found.append("os.environ")
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if canary.encode() in handle.read():
                    found.append(f"/proc/{entry}/environ")
        except OSError:
            pass
print("SELFTEST:" + json.dumps({"found": found}), flush=True)
"""


def _program(template: str, **values: object) -> str:
    source = template
    for name, value in values.items():
        source = source.replace(f"__{name}__", repr(value))
    return source + _APP


# --- the checks ---------------------------------------------------------------------


def _check_network(spec: ExerciseSpec, config: SandboxConfig, pool: SandboxPool | None) -> SelftestResult:
    name = "network"
    listener = _LoopbackListener()
    try:
        report = grade_source(spec, _program(_NETWORK, PORT=listener.port), config=config, pool=pool)
        time.sleep(0.1)
    finally:
        listener.close()
    probe = _probe(report)
    if probe is None:
        return _did_not_run(name, report)
    if listener.connections:
        return SelftestResult(name, False, f"a loopback listener of the host got {listener.connections} connection(s)")
    if probe["outcome"] == "connected":
        return SelftestResult(
            name, False, "the program connected to 127.0.0.1 (inside its sandbox, yet the port answered)"
        )
    return SelftestResult(name, True, f"a listener on the host's 127.0.0.1 was unreachable ({probe['outcome']})")


def _check_canary_file(spec: ExerciseSpec, config: SandboxConfig, pool: SandboxPool | None) -> SelftestResult:
    name = "read a host file"
    canary = secrets.token_hex(16)
    folder = Path(tempfile.mkdtemp(prefix="grader-selftest-"))  # 0700, host only
    try:
        path = folder / "canary.txt"
        path.write_text(canary)
        report = grade_source(
            spec, _program(_CANARY_FILE, PATH=str(path), CANARY_REVERSED=canary[::-1]), config=config, pool=pool
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    probe = _probe(report)
    if probe is None:
        return _did_not_run(name, report)
    if probe["found"] or canary in json.dumps(report.to_dict()):
        return SelftestResult(name, False, f"the program read a canary file in a host-only folder ({folder})")
    if probe["outcome"] == "read":
        return SelftestResult(name, False, f"the program could open {path}")
    return SelftestResult(name, True, f"a file in a host-only folder could not be read ({probe['outcome']})")


def _check_write_outside(spec: ExerciseSpec, config: SandboxConfig, pool: SandboxPool | None) -> SelftestResult:
    name = "write outside /tmp"
    folder = Path(tempfile.mkdtemp(prefix="grader-selftest-"))
    folder.chmod(0o1777)  # writable by anyone: only the sandbox's mounts can keep the program out
    target = folder / "escape.txt"
    runtime_before = _tree_state(config.runtime.root)
    try:
        report = grade_source(spec, _program(_WRITE_OUTSIDE, HOST_PATH=str(target)), config=config, pool=pool)
        appeared = target.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    probe = _probe(report)
    if probe is None:
        return _did_not_run(name, report)
    written = [
        path for path, outcome in probe["outcomes"].items() if outcome == "written" and path != "/tmp/selftest-inside"
    ]
    if appeared:
        return SelftestResult(name, False, f"the program created {target} on the host")
    if _tree_state(config.runtime.root) != runtime_before:
        return SelftestResult(name, False, f"the learner runtime changed ({config.runtime.root})")
    if written:
        return SelftestResult(name, False, f"the program could write {', '.join(written)}")
    if probe["outcomes"].get("/tmp/selftest-inside") != "written":
        return SelftestResult(
            name, False, "the program could not even write its own /tmp: the sandbox is not as expected"
        )
    return SelftestResult(name, True, "only the private /tmp was writable; host folder and runtime unchanged")


def _check_fork_bomb(spec: ExerciseSpec, config: SandboxConfig, pool: SandboxPool | None) -> SelftestResult:
    name = "fork bomb"
    marker = f"grader-selftest-{secrets.token_hex(8)}"
    report = grade_source(spec, _program(_FORK_BOMB, ATTEMPTS=FORK_ATTEMPTS, MARKER=marker), config=config, pool=pool)
    left = _processes_with(marker, wait=3.0)
    probe = _probe(report)
    if left:
        return SelftestResult(
            name, False, f"{len(left)} process(es) of the program still run after grading (pids {left[:10]})"
        )
    if probe is None:
        return _did_not_run(name, report)
    in_force = process_limit_expected(as_root=os.geteuid() == 0, sandboxed=not config.unsafe_no_sandbox)
    contained, detail = judge_fork_bomb(
        forked=int(probe["forked"]),
        error=probe.get("error"),
        limit=spec.limits.processes,
        in_force=in_force,
        reported_missing=PROCESS_COUNT in report.limits_not_applied,
    )
    return SelftestResult(name, contained, detail)


def judge_fork_bomb(
    *, forked: int, error: object, limit: int, in_force: bool, reported_missing: bool
) -> tuple[bool, str]:
    """Whether a fork bomb that forked ``forked`` times was contained, and why.

    Where this host must bound the process count (``in_force``), the bomb must
    stop below ``limit`` and the report must not claim the limit was missing;
    elsewhere it is only swept at the end.
    """
    if not in_force:
        return True, f"forked {forked} (no process limit here); all swept after grading"
    if reported_missing:
        return False, "the process limit must be in force here, yet the report says it was not applied"
    if forked >= limit:
        return False, f"forked {forked} processes; the limit is {limit}"
    return True, f"stopped after {forked} forks ({error}); all swept after grading"


def _check_environ(spec: ExerciseSpec, config: SandboxConfig, pool: SandboxPool | None) -> SelftestResult:
    name = "environment leak"
    canary = secrets.token_hex(16)
    previous = os.environ.get(CANARY_ENV)
    os.environ[CANARY_ENV] = canary
    # A changed os.environ does not show in /proc/<pid>/environ, which holds a
    # process's initial environment; a host process started with the canary
    # stands for a service whose secrets came from its environment.
    holder = subprocess.Popen(
        ["sleep", "60"],
        env={CANARY_ENV: canary, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        report = grade_source(spec, _program(_ENVIRON, CANARY_REVERSED=canary[::-1]), config=config, pool=pool)
    finally:
        holder.kill()
        holder.wait()
        if previous is None:
            os.environ.pop(CANARY_ENV, None)
        else:
            os.environ[CANARY_ENV] = previous
    probe = _probe(report)
    if probe is None:
        return _did_not_run(name, report)
    if probe["found"] or canary in json.dumps(report.to_dict()):
        return SelftestResult(
            name, False, f"the grader's environment reached the sandbox ({', '.join(probe['found']) or 'report'})"
        )
    return SelftestResult(name, True, "the grader's environment was not visible, not even through /proc")


_CHECKS: list[tuple[str, Callable[[ExerciseSpec, SandboxConfig, SandboxPool | None], SelftestResult]]] = [
    ("network", _check_network),
    ("read a host file", _check_canary_file),
    ("write outside /tmp", _check_write_outside),
    ("fork bomb", _check_fork_bomb),
    ("environment leak", _check_environ),
]
CHECKS: tuple[str, ...] = tuple(name for name, _ in _CHECKS)


# --- helpers --------------------------------------------------------------------------


def _probe_exercise() -> ExerciseSpec:
    """A one-case exercise: the programs do their work at import, the case only lets them load."""
    return ExerciseSpec(
        slug="selftest",
        title="Confinement self-test",
        instructions="Built-in hostile programs; not an exercise for learners.",
        limits=Limits(startup_seconds=10, request_seconds=2, total_seconds=10, processes=32),
        cases=[
            CaseSpec(
                name="probe",
                description="any answer",
                request=RequestSpec(method="POST", path="/message", json_body={"probe": True}),
                expect=ExpectSpec(status=200),
            )
        ],
        spec_hash="selftest",
    )


def _probe(report: Report) -> dict[str, Any] | None:
    for line in report.stdout.splitlines():
        if line.startswith(PROBE_MARK):
            try:
                probe = json.loads(line[len(PROBE_MARK) :])
            except ValueError:
                return None
            return probe if isinstance(probe, dict) else None
    return None


def _did_not_run(name: str, report: Report) -> SelftestResult:
    why = report.error.message.splitlines()[0] if report.error and report.error.message else report.status
    return SelftestResult(name, False, f"the program did not run, so confinement is unproven ({why})")


def _processes_with(marker: str, *, wait: float) -> list[int]:
    """Pids whose command line holds ``marker``, after waiting up to ``wait`` seconds for them to go."""
    deadline = time.monotonic() + wait
    while True:
        found = [process.pid for process in procfs.running_processes_with(marker)]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def _tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of everything below ``root``: a built runtime never changes."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            state[path] = (st.st_size, st.st_mtime_ns)
    return state


class _LoopbackListener:
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self._socket.settimeout(0.1)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._socket.close()
