"""Hostile submissions are contained: each test grades one, then checks the host.

The checks look at the host itself (processes by uid, files and their hashes,
free disk and memory, listeners the test opened, sentinel processes), never
only at the score. What a submission reports about its own attempts (its
"probe") is used to make sure the attack really ran, so a test cannot pass
because the submission never got that far.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.config import PROJECT_ROOT
from grader.grading.sandbox import procfs
from grader.grading.sandbox.confinement import PTYS_PER_SANDBOX
from grader.grading.sandbox.pool import open_pools

from .support import ProcessWatcher, descendants, fill, find_probe, submission_text, unused_pool_uids

pytestmark = pytest.mark.sandbox

ENV_CANARY_NAME = "GRADER_CANARY_SECRET"


@pytest.fixture(params=["cold", "pooled", "forked"])
def grade(request, grade, pooled_grade, bwrap_pooled_grade):
    """Every test here runs three times: in a sandbox started for the grading through bubblewrap, in one
    started ahead through bubblewrap by a pool, and in one forked ahead from the pool's template."""
    return {"cold": grade, "pooled": bwrap_pooled_grade, "forked": pooled_grade}[request.param]


def hostile(name: str, **values: object) -> str:
    return fill(submission_text("hostile", f"{name}.py"), **values)


def graded(grade, spec, source, *, marker: str | None = None):
    """Grade while watching /proc for this session's sandbox uids: (report, seconds, watcher)."""
    # A pool's sandboxes that no grading has had yet are not this grading's: they are left out.
    ignore = functools.partial(unused_pool_uids, grade.config)
    with ProcessWatcher(grade.config.slot_uids, marker, ignore_uids=ignore) as watcher:
        began = time.monotonic()
        report = grade(spec, source)
        elapsed = time.monotonic() - began
    return report, elapsed, watcher


def assert_host_clean(before, host_snapshot, **margins) -> None:
    problems = host_snapshot().problems_since(before, **margins)
    assert problems == [], "\n".join(problems)


def assert_grader_still_grades(grade, message_echo) -> None:
    report = grade(message_echo, submission_text("correct", "fastapi_async.py"))
    assert report.status == "passed", (report.error, [(c.name, c.problem) for c in report.tests if not c.passed])


def assert_not_infra(report) -> None:
    assert report.error is None or report.error.kind != "infra", report.error


# --- processes ------------------------------------------------------------------------


def test_fork_bomb_is_bounded_and_swept(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, watcher = graded(grade, message_echo, hostile("fork_bomb"))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stdout[-500:])
    limit = message_echo.limits.processes
    assert probe["forked"] < limit, probe
    assert probe["error"] and "Resource temporarily unavailable" in probe["error"]
    assert 0 < watcher.max_at_once <= limit + 2, "the process limit held on the host as well"
    assert elapsed < 30
    assert_not_infra(report)
    assert_host_clean(before, host_snapshot)
    assert_grader_still_grades(grade, message_echo)


def test_setsid_daemons_do_not_outlive_the_grading(grade, message_echo, host_snapshot):
    marker = f"hostile-daemon-{secrets.token_hex(6)}"
    before = host_snapshot()
    report, _, watcher = graded(grade, message_echo, hostile("daemon", MARKER=marker), marker=marker)
    assert find_probe(report) == {"daemons": 2}
    assert watcher.marked, "the daemon never started, so the test proves nothing"
    assert all(p.uid in grade.config.slot_uids for p in watcher.marked.values()), watcher.marked
    assert report.status == "passed", "the daemons do not disturb the grading"
    if grade.pool is not None:
        assert grade.pool.wait_closed(), "a pooled sandbox is torn down after its report, in the background"
    still_there = procfs.running_processes_with(marker)
    assert still_there == []
    assert_host_clean(before, host_snapshot)


def test_hang_at_import_with_signals_ignored_times_out_and_is_killed(grade, quick_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, watcher = graded(grade, quick_echo, hostile("hang_at_import"))
    assert report.error is not None and report.error.kind == "timeout"
    assert watcher.max_at_once >= 2, "the child at import was seen running"
    assert quick_echo.limits.startup_seconds * 0.9 <= elapsed < quick_echo.limits.startup_seconds + 10
    assert_host_clean(before, host_snapshot)


def test_kill_everything_reaches_nothing_outside(grade, message_echo, host_snapshot, sentinels):
    before = host_snapshot()
    targets = {"grader": os.getpid(), **{name: proc.pid for name, proc in sentinels.items()}}
    report, _, _ = graded(grade, message_echo, hostile("kill_everything", TARGETS=json.dumps(targets)))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    for name in targets:
        assert probe["results"][name] in ("ESRCH", "EPERM"), probe
    for name, proc in sentinels.items():
        assert proc.poll() is None, f"sentinel {name} was killed"
    assert_not_infra(report)
    assert_host_clean(before, host_snapshot, exclude_pids={sentinels["other_uid"].pid})
    assert_grader_still_grades(grade, message_echo)


def test_ptrace_cannot_reach_the_host(grade, message_echo, host_snapshot, sentinels):
    before = host_snapshot()
    targets = {"grader": os.getpid(), "sentinel": sentinels["root"].pid}
    report, _, _ = graded(grade, message_echo, hostile("ptrace_attach", TARGETS=json.dumps(targets)))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    for name in targets:
        assert probe["results"][name]["attach"] != "attached", probe
        assert probe["results"][name]["mem"] != "read", probe
    for pid in (os.getpid(), sentinels["root"].pid):
        assert _tracer_of(pid) == 0
    assert sentinels["root"].poll() is None
    assert_host_clean(before, host_snapshot, exclude_pids={sentinels["other_uid"].pid})


def test_sandbox_runs_as_an_unprivileged_slot_uid(grade, message_echo, sandbox_config):
    """Seen from the host: the server (and bubblewrap) run as a slot's uid, never as root.

    A sandbox forked from a template runs as a slot's uid too; the only root
    processes on that path are the template and the keeper above each sandbox,
    neither of which ever runs anything a submission sent.
    """
    slot_uids = sandbox_config.slot_uids
    with ProcessWatcher(slot_uids, watch_all=True) as watcher:
        report = grade(message_echo, hostile("proc_info"))
    probe = find_probe(report)
    assert probe is not None
    assert probe["uid_map"].split()[0] != "0" or probe["uid"] in slot_uids, "not root inside either"
    # Only this grading's processes: other graders on this machine run sandboxes too.
    ours = descendants(watcher.parents, {os.getpid()})
    seen = {p.pid: p for p in watcher.everything.values() if p.pid in ours}
    launched = [p for p in seen.values() if "/opt/runtime/boot.py" in p.cmdline]
    # Interpreters forked from a template (its bubblewrap names the script too, but is not one).
    forked = [p for p in seen.values() if "/opt/runtime/template_boot.py" in p.cmdline and "bwrap" not in p.cmdline]
    if forked:
        templates = {p.pid for p in forked if any("bwrap" in seen[ppid].cmdline for ppid in _parents(watcher, p, seen))}
        keepers = {p.pid for p in forked if set(_parents(watcher, p, seen)) & templates}
        assert all(seen[pid].uid == 0 for pid in templates | keepers)
        sandboxes = [p for p in forked if p.pid not in templates | keepers]
        assert sandboxes, "no forked sandbox was seen"
        assert all(set(_parents(watcher, p, seen)) <= keepers for p in sandboxes)
        launched += sandboxes
    assert launched, "no sandbox process was seen"
    # This process may also hold other pools (the worker's, on the service's uids): their slots count as slots.
    pool_uids = {uid for pool in open_pools() for uid in pool.config.slot_uids}
    allowed = set(slot_uids) | pool_uids
    assert all(p.uid in allowed for p in launched), [(p.pid, p.uid, p.cmdline[:60]) for p in launched]


def _parents(watcher, process, seen) -> list[int]:
    return [ppid for ppid in watcher.parents.get(process.pid, ()) if ppid in seen]


# --- memory, CPU, time --------------------------------------------------------------


def test_memory_hog_is_stopped_at_the_limit(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, _ = graded(grade, message_echo, hostile("memory_hog"))
    allocated = [int(line.split()[1]) for line in report.stdout.splitlines() if line.startswith("allocated ")]
    assert allocated, "the submission never allocated anything"
    assert max(allocated) < 2 * message_echo.limits.memory_bytes >> 20, max(allocated)
    assert report.tests and not report.tests[0].passed
    assert report.score == 0
    assert "memory" in " ".join(case.problem or "" for case in report.tests), [c.problem for c in report.tests]
    assert elapsed < 30
    assert_not_infra(report)
    assert_host_clean(before, host_snapshot)
    assert_grader_still_grades(grade, message_echo)


def test_cpu_spin_in_handler_costs_one_request_timeout(grade, quick_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, _ = graded(grade, quick_echo, hostile("cpu_spin"))
    statuses = {case.name: case for case in report.tests}
    assert not statuses["hello"].passed
    assert "within" in statuses["hello"].problem
    assert statuses["hi"].passed and statuses["get-not-allowed"].passed
    assert elapsed < quick_echo.limits.request_seconds + 15
    assert_host_clean(before, host_snapshot)


def test_slowloris_body_is_cut_off_at_the_request_limit(grade, quick_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, _ = graded(grade, quick_echo, hostile("slowloris_body"))
    statuses = {case.name: case for case in report.tests}
    assert not statuses["hello"].passed
    assert statuses["hi"].passed and statuses["every-json-type"].passed
    assert elapsed < quick_echo.limits.request_seconds + 15
    assert_host_clean(before, host_snapshot)


def test_slowloris_headers_on_a_hijacked_socket_is_bounded(grade, quick_echo, host_snapshot):
    """A submission may answer on the listening socket itself, trickling the headers.

    The grading must still end within its time limits. If it does not, the test
    kills the sandbox's processes itself, so that the rest of the suite can run,
    and fails.
    """
    spec = quick_echo.model_copy(update={"limits": quick_echo.limits.model_copy(update={"total_seconds": 6.0})})
    bound = spec.limits.startup_seconds + spec.limits.total_seconds + spec.limits.request_seconds + 10
    before = host_snapshot()
    outcome: dict = {}

    def run() -> None:
        outcome["report"] = grade(spec, hostile("slowloris_headers"))

    began = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(bound)
    elapsed = time.monotonic() - began
    hung = worker.is_alive()
    if hung:
        for process in procfs.running_processes_of(grade.config.slot_uids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        worker.join(30)
    assert not hung, f"the grading was still running after {elapsed:.0f} s (limit {bound:.0f} s)"
    report = outcome["report"]
    assert find_probe(report) is not None, "the submission did not take over the socket"
    assert report.score == 0
    # The grader gave up on the request itself; the server was not killed under it.
    assert "within" in (report.tests[0].problem or ""), report.tests[0].problem
    assert_host_clean(before, host_snapshot)


def test_endless_and_huge_responses_are_read_with_a_cap(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, _ = graded(grade, message_echo, hostile("huge_response"))
    statuses = {case.name: case for case in report.tests}
    for name in ("hello", "hi"):
        case = statuses[name]
        assert not case.passed
        assert case.received.truncated, (name, case.problem)
        assert len(case.received.body or "") <= 4096
    others = [case for case in report.tests if case.name not in ("hello", "hi")]
    assert all(case.passed for case in others), [(c.name, c.problem) for c in others if not c.passed]
    assert elapsed < 30
    assert_host_clean(before, host_snapshot)


# --- output -------------------------------------------------------------------------


def test_output_flood_is_capped(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, _ = graded(grade, message_echo, hostile("output_flood"))
    cap = message_echo.limits.output_bytes
    for stream in (report.stdout, report.stderr):
        assert "flood" in stream
        assert len(stream.encode()) <= cap + 200
        assert "bytes not kept" in stream
        dropped = int(stream.split("[… ")[1].split(" bytes")[0].replace(",", ""))
        assert dropped > 500 << 20, "the flood really was written"
    assert report.status == "passed", (report.error, [(c.name, c.problem) for c in report.tests if not c.passed])
    assert elapsed < 60
    assert_host_clean(before, host_snapshot)


# --- files --------------------------------------------------------------------------


def test_writes_outside_the_private_tmpfs_fail(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, _, _ = graded(grade, message_echo, hostile("write_everywhere", REPO=PROJECT_ROOT))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    written = [label for label, outcome in probe["results"].items() if outcome == "written"]
    assert written == []
    limits = message_echo.limits
    big_written, big_error = probe["tmp_big"]
    assert big_error == "EFBIG" and big_written <= limits.file_size_bytes
    assert probe["tmpfs_error"] == "ENOSPC" and probe["tmpfs_total"] <= limits.tmpfs_bytes
    assert probe["tmp_size"] <= limits.tmpfs_bytes
    shm_written, shm_error = probe["shm"]
    assert shm_error in ("ENOSPC", "EFBIG") and shm_written <= 1 << 20
    assert report.status == "passed"
    assert_host_clean(before, host_snapshot)


def test_one_grading_never_sees_files_another_left(grade, message_echo, host_snapshot):
    token = secrets.token_hex(6)
    source = hostile("tmp_leftover", TOKEN=token)
    before = host_snapshot()
    first = find_probe(grade(message_echo, source))
    second = find_probe(grade(message_echo, source))
    assert first is not None and second is not None
    assert all(first["left"].values()), first
    assert not any(second["seen"].values()), second
    on_host = [
        path
        for root in ("/tmp", "/var/tmp", "/dev/shm", str(PROJECT_ROOT / ".state"))
        for path, _, files in os.walk(root)
        for name in files
        if token in name or token in path
    ]
    assert on_host == []
    assert_host_clean(before, host_snapshot)


def test_secrets_of_the_host_cannot_be_read(grade, message_echo, host_snapshot, monkeypatch, tmp_path):
    env_canary = f"env-canary-{secrets.token_hex(12)}"
    file_canary = f"file-canary-{secrets.token_hex(12)}"
    monkeypatch.setenv(ENV_CANARY_NAME, env_canary)
    hidden = tmp_path / "host-only"
    hidden.mkdir(mode=0o700)
    planted = [hidden / "secret.txt", PROJECT_ROOT / ".state" / f"canary-{secrets.token_hex(4)}.txt"]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file_canary)
        path.chmod(0o644)  # only the mounts may protect it, not the file mode
    settings_db = PROJECT_ROOT / ".state" / "grader.sqlite3"
    paths = [str(p) for p in planted] + [
        str(PROJECT_ROOT / "exercises" / "message-echo" / "exercise.toml"),
        str(PROJECT_ROOT / "grader" / "config.py"),
        str(PROJECT_ROOT / "pyproject.toml"),
        str(Path(sys.prefix) / "pyvenv.cfg"),
        str(settings_db),
    ]
    try:
        before = host_snapshot()
        report, _, _ = graded(
            grade,
            message_echo,
            hostile(
                "read_secrets",
                FILE_CANARY_REVERSED=file_canary[::-1],
                ENV_CANARY_REVERSED=env_canary[::-1],
                PATHS=json.dumps(paths),
            ),
        )
    finally:
        planted[1].unlink()
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    assert probe["found_canary"] == []
    for path in paths + ["/etc/shadow", "/root/.bashrc", "/proc/1/root/etc/shadow"]:
        assert not probe["results"][path].startswith("read"), (path, probe["results"][path])
    assert ENV_CANARY_NAME not in probe["environ_keys"]
    assert probe["walked"] < 50, "the sandbox shows almost no files outside /usr and the runtime"
    whole = json.dumps(report.to_dict(), ensure_ascii=False)
    assert env_canary not in whole and file_canary not in whole
    exercise_text = (PROJECT_ROOT / "exercises" / "message-echo" / "exercise.toml").read_text()
    assert "total_seconds = 60" in exercise_text and "total_seconds = 60" not in whole
    assert_host_clean(before, host_snapshot)


def test_proc_shows_nothing_secret(grade, message_echo, monkeypatch):
    env_canary = f"env-canary-{secrets.token_hex(12)}"
    monkeypatch.setenv(ENV_CANARY_NAME, env_canary)
    report, _, _ = graded(grade, message_echo, hostile("proc_info"))
    probe = find_probe(report)
    assert probe is not None
    assert env_canary not in json.dumps(probe) and env_canary not in json.dumps(report.to_dict())
    environ_names = {item.split("=", 1)[0] for item in probe["pid1_environ"].split()}
    assert environ_names <= {"PATH", "LANG", "HOME", "LC_ALL", "TERM", "PWD"}, probe["pid1_environ"]
    assert probe["hostname"] != socket.gethostname()
    assert str(PROJECT_ROOT) not in probe["pid1_cmdline"]


def test_nothing_on_the_shared_files_links_concurrent_sandboxes(grade, message_echo, host_snapshot):
    """The runtime and /usr are the same files in every sandbox: no lock can be taken on them (nor on
    any file), no inotify watch can see a neighbour open them, and each sandbox has a /dev/pts of
    its own, showing only its own terminals."""
    before = host_snapshot()
    report, _, _ = graded(grade, message_echo, hostile("shared_files"))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    for path, attempts in probe["locks"].items():
        assert set(attempts.values()) == {"ENOLCK"}, (path, attempts)
    assert probe["inotify"] == "EPERM", probe
    assert probe["ptys"] >= 1, "a sandbox may still open a terminal of its own"
    assert probe["dev_pts"] == sorted(["ptmx", *(str(n) for n in range(probe["ptys"]))]), probe
    if grade.pool is not None and grade.pool._use_template:
        assert probe["ptys"] == PTYS_PER_SANDBOX and probe["pty_error"] == "ENOSPC", probe
    assert report.status == "passed"
    assert_host_clean(before, host_snapshot)


# --- network and sockets ----------------------------------------------------------------


def test_loopback_listener_of_the_host_is_unreachable(grade, message_echo, host_snapshot, loopback_listener):
    before = host_snapshot()
    report, _, _ = graded(grade, message_echo, hostile("network_loopback", PORT=loopback_listener.port))
    probe = find_probe(report)
    assert probe is not None
    assert probe["interfaces"] == ["lo"], "an empty network namespace of its own"
    assert probe["sees_host_port"] is False
    assert "connected" not in probe["import"].values() and probe["import"]["udp 127.0.0.1"] != "received"
    handler_lines = [line for line in report.stdout.splitlines() if line.startswith("PROBE-HANDLER:")]
    assert handler_lines, "the handler's attempts ran"
    assert all("connected" not in json.loads(line.split(":", 1)[1]).values() for line in handler_lines)
    time.sleep(0.2)
    assert loopback_listener.connections == 0
    assert loopback_listener.datagrams == 0
    assert report.status == "passed"
    assert_host_clean(before, host_snapshot)


def test_host_unix_sockets_are_unreachable(grade, message_echo, host_snapshot, unix_listener):
    before = host_snapshot()
    targets = [
        str(unix_listener.path),
        "/run/postgresql/.s.PGSQL.5432",
        "/var/run/postgresql/.s.PGSQL.5432",
        "/run/mysqld/mysqld.sock",
        "/run/dbus/system_bus_socket",
        "/var/run/docker.sock",
    ]
    report, _, _ = graded(
        grade,
        message_echo,
        hostile("host_unix_sockets", TARGETS=json.dumps(targets), ABSTRACT=unix_listener.abstract_name),
    )
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    assert len(probe["results"]) >= len(targets) + 1
    assert "connected" not in probe["results"].values(), probe
    assert unix_listener.connections == 0
    assert_host_clean(before, host_snapshot)


def test_planted_socket_symlinks_are_never_followed(grade, message_echo, host_snapshot, unix_listener):
    before = host_snapshot()
    report, _, _ = graded(grade, message_echo, hostile("socket_symlink", BAIT=unix_listener.path))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    assert probe["/tmp/app.sock"] == "planted"
    assert report.status == "passed", "the grader reached the real app, not a planted socket"
    assert unix_listener.connections == 0
    assert_host_clean(before, host_snapshot)


# --- forgery ------------------------------------------------------------------------


def test_fake_reports_do_not_change_the_score(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, _, _ = graded(grade, message_echo, hostile("fake_report"))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    assert "score: 100" in report.stdout
    status_only = {"malformed-json", "array-body", "string-body", "get-not-allowed"}
    assert report.error is None, report.error
    assert {c.name for c in report.tests if c.passed} == status_only
    expected = sum(case.points for case in message_echo.cases if case.name in status_only)
    assert report.score == expected < report.max_score
    assert report.status == "failed"
    assert_host_clean(before, host_snapshot)


def test_exit_in_the_handler_fails_the_remaining_cases_only(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, elapsed, _ = graded(grade, message_echo, hostile("exit_in_handler"))
    assert_not_infra(report)
    statuses = {case.name: case for case in report.tests}
    assert statuses["hello"].passed
    assert not statuses["hi"].passed
    assert report.score == statuses["hello"].max_score
    assert report.status == "failed"
    assert elapsed < 30
    assert_host_clean(before, host_snapshot)


# --- privileges -------------------------------------------------------------------------


def test_no_namespaces_mounts_or_privileges_inside(grade, message_echo, host_snapshot):
    before = host_snapshot()
    report, _, _ = graded(grade, message_echo, hostile("namespaces_privileges"))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    assert probe["unshare"]["user"] != "ok", probe["unshare"]
    for label in ("mount tmpfs", "remount / rw", "setuid 0", "chroot /tmp"):
        assert probe[label] != "ok", (label, probe[label])
    assert not probe["nested bwrap"].startswith("exit 0"), probe["nested bwrap"]
    for program in ("/usr/bin/sudo", "/usr/bin/su"):
        if program in probe:
            assert not probe[program].startswith("exit 0"), probe[program]
    status = probe["status"]
    for capability in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(status[capability], 16) == 0, (capability, status[capability])
    assert status["NoNewPrivs"] == "1"
    uid = int(status["Uid"].split()[0])
    # bubblewrap's sandboxes are uid 1000 of a user namespace of their own; forked ones a slot's host uid.
    assert probe["uid_map"][0] != "0" or uid in grade.config.slot_uids, (probe["uid_map"], uid)
    assert uid != 0
    assert report.status == "passed"
    assert_host_clean(before, host_snapshot)


# --- fixtures -----------------------------------------------------------------------


def _tracer_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no TracerPid for {pid}")


@pytest.fixture
def sentinels(sandbox_config, uid_block):
    """Two host processes a submission must not be able to kill: one of root, one of an unused sandbox-range uid."""
    spare_uid = uid_block.spare_uid
    assert spare_uid not in sandbox_config.slot_uids
    started = {
        "root": subprocess.Popen(["sleep", "600"]),
        "other_uid": subprocess.Popen(["sleep", "600"], user=spare_uid, group=spare_uid, extra_groups=[]),
    }
    yield started
    for proc in started.values():
        proc.kill()
        proc.wait()


class _LoopbackListener:
    """A TCP listener and a UDP socket on 127.0.0.1 that count what reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.tcp.settimeout(0.1)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.udp.settimeout(0.1)
        self.connections = 0
        self.datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass
            try:
                self.udp.recv(1024)
                self.datagrams += 1
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def loopback_listener():
    listener = _LoopbackListener()
    yield listener
    listener.close()


class _UnixListener:
    """A world-reachable Unix socket on the host and an abstract one, counting connections."""

    def __init__(self, folder: Path) -> None:
        folder.chmod(0o755)
        self.path = folder / "bait.sock"
        self.abstract_name = f"grader-bait-{secrets.token_hex(6)}"
        self.sockets = []
        for address in (str(self.path), "\0" + self.abstract_name):
            server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            server.bind(address)
            server.listen(16)
            server.settimeout(0.1)
            self.sockets.append(server)
        self.path.chmod(0o777)
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for server in self.sockets:
                try:
                    conn, _ = server.accept()
                    self.connections += 1
                    conn.close()
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for server in self.sockets:
            server.close()


@pytest.fixture
def unix_listener(tmp_path):
    folder = tmp_path / "bait"
    folder.mkdir()
    os.chmod(tmp_path, 0o755)
    listener = _UnixListener(folder)
    yield listener
    listener.close()
