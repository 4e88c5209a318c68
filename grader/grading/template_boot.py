"""Runs as root on the host, in bubblewrap's read-only view of the learner runtime: the sandbox template.

It imports the server libraries once (through ``boot.py``, beside it in the
runtime), then waits on its control socket. For each request it forks a child
that becomes a sandbox of its own before any submission reaches it:

    template (root, imports done, never runs learner code)
    └── keeper (root): new mount, PID, network, IPC and UTS namespaces; reports
        │              the sandbox's pid and, later, how it ended
        └── sandbox, PID 1 of its namespace: joins the grading's cgroups and a
            cgroup namespace, mounts a fresh /proc, /tmp and /dev/shm, takes its
            hostname, file descriptors and rlimits, drops every capability and
            becomes the slot's host uid, sets no_new_privs and the seccomp
            filter, and only then reads the submission (as ``boot.py`` does)

The template's memory holds imported libraries and nothing of any grading: the
submission travels from the host to the sandbox through a pipe the template
only passes on. A sandbox never outlives its grading, and the template never
runs anything a submission sent. The host side is
``grader.grading.sandbox.template``.

Requests are JSON (``uid``, ``rlimits``, ``steps``: the declared confinement
steps of ``grader.grading.sandbox.confinement`` in order, ``entry``, ``seccomp``:
the filter as hex or null) with the file descriptors,
in this order: stdin, stdout, stderr, status, listening socket, report, then
the cgroups' ``cgroup.procs`` files. Only the standard library is used here.
"""

# ruff: noqa: ARG001 - every confinement step's handler takes (step, context), whichever it uses

from __future__ import annotations

import argparse
import contextlib
import ctypes
import errno
import importlib.util
import json
import os
import resource
import select
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

MAX_REQUEST_BYTES = 64 * 1024
MAX_FDS = 16
# Where the sandbox's descriptors end up: what boot.py's server and the host expect.
STDIN, STDOUT, STDERR, LISTEN_FD, STATUS_FD = 0, 1, 2, 3, 4
FIRST_SPARE_FD = 100
REPORT_FD = 99
LIFE_FD = 98
SETUP_FAILED = 125

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
KEEPER_NAMESPACES = {
    "mount": CLONE_NEWNS,
    "pid": CLONE_NEWPID,
    "network": CLONE_NEWNET,
    "ipc": CLONE_NEWIPC,
    "uts": CLONE_NEWUTS,
}
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
CAP_LAST_CAP = 63
# /proc files a sandbox must not write even if it found a way to (bubblewrap covers the same).
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus")

_libc = ctypes.CDLL(None, use_errno=True)


class SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _load_boot() -> ModuleType:
    spec = importlib.util.spec_from_file_location("boot", Path(__file__).with_name("boot.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["boot"] = module
    spec.loader.exec_module(module)
    return module


# -- in the sandbox, before anything of the submission


def _enter_sandbox(request: dict[str, Any], fds: list[int]) -> None:
    """Everything that makes this process a sandbox; raises if any step fails.

    It joins the grading's cgroups and puts its descriptors in place, then
    carries out the host's declared confinement steps in their order, each by
    its handler in ``STEPS``. A step without a handler stops it.
    """
    stdin, stdout, stderr, status, listener, _report, *cgroup_procs = fds
    os.close(_report)  # kept as REPORT_FD until the sandbox is complete
    for fd in cgroup_procs:
        os.write(fd, b"0")
        os.close(fd)
    # Descriptors: first out of the way, then to their places; nothing else stays open.
    spare = [os.dup2(fd, FIRST_SPARE_FD + n) for n, fd in enumerate((stdin, stdout, stderr, listener, status))]
    for target, fd in enumerate(spare):
        os.dup2(fd, target)
    os.closerange(STATUS_FD + 1, LIFE_FD)
    os.closerange(REPORT_FD + 1, os.sysconf("SC_OPEN_MAX"))
    context = {"uid": int(request["uid"]), "request": request}
    for step in request["steps"]:
        handler = STEPS.get(step["step"])
        if handler is None:
            raise ValueError(f"no handler for the confinement step {step['step']!r}")
        handler(step, context)


# -- the confinement steps, one handler each (grader.grading.sandbox.confinement declares them)


def _namespaces(step: dict[str, Any], context: dict[str, Any]) -> None:
    # The keeper made the others before forking this process (PID 1 of the new PID namespace).
    if "cgroup" in step["kinds"]:
        # The cgroups' paths stay the host's business: this group is the namespace's root.
        _check(_libc.unshare(CLONE_NEWCGROUP), "unshare cgroup namespace")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)


def _new_session(step: dict[str, Any], context: dict[str, Any]) -> None:
    os.setsid()


def _die_with_parent_step(step: dict[str, Any], context: dict[str, Any]) -> None:
    # As PID 1 of its namespace it cannot ask getppid() whether the keeper still lives: the
    # keeper's pipe tells. The uid change clears the signal, so "host uid" arms it again.
    context["die with parent"] = True
    _die_with_parent(lambda: _pipe_open(LIFE_FD))


def _hostname(step: dict[str, Any], context: dict[str, Any]) -> None:
    name = str(step["name"]).encode()
    _check(_libc.sethostname(name, len(name)), "sethostname")


def _file_view(step: dict[str, Any], context: dict[str, Any]) -> None:
    # Built once by the template's bubblewrap, with the same arguments a sandbox's would get.
    if not os.path.isdir("/opt/runtime/bin") or os.path.exists("/etc"):
        raise OSError(errno.ENOENT, "the template's file view is not the sandbox's")


def _proc(step: dict[str, Any], context: dict[str, Any]) -> None:
    target = str(step["target"])
    _mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in PROC_READ_ONLY:
        path = f"{target}/{name}"
        if os.path.exists(path):
            _mount(path, path, None, MS_BIND | MS_REC)
            _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _tmpfs(step: dict[str, Any], context: dict[str, Any]) -> None:
    uid = context["uid"]
    options = f"size={int(step['size'])},mode=0755,uid={uid},gid={uid}"  # as bubblewrap's --tmpfs
    _mount("tmpfs", str(step["target"]), "tmpfs", MS_NOSUID | MS_NODEV, options)


def _devpts(step: dict[str, Any], context: dict[str, Any]) -> None:
    # Terminals of its own, a few at most: the template's /dev/pts would show every neighbour's.
    options = f"newinstance,ptmxmode=0666,mode=0620,max={int(step['max'])}"
    _mount("devpts", str(step["target"]), "devpts", MS_NOSUID | MS_NOEXEC, options)


def _read_only(step: dict[str, Any], context: dict[str, Any]) -> None:
    # The template's bubblewrap made them read-only; checked, since a sandbox relies on it.
    for target in step["targets"]:
        if not os.statvfs(target).f_flag & os.ST_RDONLY:
            raise OSError(errno.EROFS, f"{target} is not read-only")


def _environment(step: dict[str, Any], context: dict[str, Any]) -> None:
    os.environ.clear()
    os.environ.update({str(name): str(value) for name, value in step["variables"].items()})


def _working_folder(step: dict[str, Any], context: dict[str, Any]) -> None:
    os.chdir(str(step["path"]))
    os.environ["PWD"] = str(step["path"])  # as bubblewrap's --chdir sets it


def _rlimits(step: dict[str, Any], context: dict[str, Any]) -> None:
    for which, (soft, hard) in context["request"]["rlimits"]:
        resource.setrlimit(int(which), (int(soft), int(hard)))


def _host_uid(step: dict[str, Any], context: dict[str, Any]) -> None:
    uid = context["uid"]
    for cap in range(CAP_LAST_CAP + 1):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() != errno.EINVAL:
            _check(-1, f"dropping capability {cap}")
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # from root to another uid: every capability goes
    if context.get("die with parent"):
        _die_with_parent(lambda: _pipe_open(LIFE_FD))  # the uid change cleared it
    os.close(LIFE_FD)
    # The uid change also made it non-dumpable, which hands its /proc files to root: back to
    # what any process of its own uid is (ptrace and process_vm_* stay denied by the filter).
    _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")


def _no_new_privs(step: dict[str, Any], context: dict[str, Any]) -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _seccomp(step: dict[str, Any], context: dict[str, Any]) -> None:
    hexed = context["request"].get("seccomp")
    if hexed:
        program = bytes.fromhex(hexed)
        buffer = ctypes.create_string_buffer(program, len(program))
        fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
        _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


STEPS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "namespaces": _namespaces,
    "new session": _new_session,
    "die with parent": _die_with_parent_step,
    "hostname": _hostname,
    "file view": _file_view,
    "proc": _proc,
    "tmpfs": _tmpfs,
    "devpts": _devpts,
    "read-only": _read_only,
    "environment": _environment,
    "working folder": _working_folder,
    "rlimits": _rlimits,
    "host uid": _host_uid,
    "no_new_privs": _no_new_privs,
    "seccomp": _seccomp,
}


def _sandbox(boot: ModuleType, request: dict[str, Any], fds: list[int]) -> int:
    os.dup2(fds[5], REPORT_FD)
    try:
        _enter_sandbox(request, fds)
    except BaseException as exc:  # noqa: BLE001 - whatever it was, this sandbox must not run
        _send(REPORT_FD, setup_error=f"{type(exc).__name__}: {exc}")
        return SETUP_FAILED
    os.close(REPORT_FD)
    entry = str(request.get("entry", "app"))
    # As boot.py's own command line would say, for a submission that looks.
    sys.argv = ["/opt/runtime/boot.py", "--listen-fd", str(LISTEN_FD), "--status-fd", str(STATUS_FD), "--entry", entry]
    status = boot.Status(STATUS_FD)
    status.send("waiting")
    source = boot._read_source()
    app = boot._load(source, entry, status)
    if app is None:
        return 2
    status.send("loaded")
    return int(boot._serve(app, LISTEN_FD, status))


def _send(fd: int, **fields: object) -> None:
    """One JSON line to the host; a host that hung up is not this process's problem."""
    with contextlib.suppress(OSError):
        os.write(fd, json.dumps(fields).encode() + b"\n")


# -- the keeper: between the template and the sandbox


def _keep(boot: ModuleType, request: dict[str, Any], fds: list[int]) -> int:
    report = fds[5]
    try:
        _check(_libc.unshare(_keeper_namespaces(request)), "unshare")
        # Held open by the keeper only: the sandbox sees it close if the keeper is gone.
        life_read, life_write = os.pipe()
        pid = os.fork()
    except OSError as exc:
        _send(report, setup_error=str(exc))
        return SETUP_FAILED
    if pid == 0:
        code = SETUP_FAILED
        try:
            os.close(life_write)
            os.dup2(life_read, LIFE_FD)
            code = _sandbox(boot, request, fds)
        except BaseException:  # noqa: BLE001 - shown in the sandbox's error output, like any crash
            traceback.print_exc()
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    os.close(life_read)
    for fd in fds:
        if fd != report:
            os.close(fd)
    # Read before the keeper can reap it, so the pid and start time name this process for good.
    _send(report, pid=pid, started=_start_time(pid))
    _, wait_status = os.waitpid(pid, 0)
    _send(report, exit=os.waitstatus_to_exitcode(wait_status))
    return 0


def _keeper_namespaces(request: dict[str, Any]) -> int:
    """The clone flags of the namespaces the keeper makes, from the declared namespaces step.

    The sandbox makes its cgroup namespace itself, once it has joined the grading's cgroups.
    """
    (step,) = [step for step in request["steps"] if step["step"] == "namespaces"]
    flags = 0
    for kind in step["kinds"]:
        if kind != "cgroup":
            flags |= KEEPER_NAMESPACES[kind]
    return flags


def _start_time(pid: int) -> str | None:
    """The start time of ``pid`` (field 22 of its stat), or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _die_with_parent(parent_alive: Any) -> None:
    """Arm the parent-death signal, then make sure the parent did not die before it was armed.

    A parent that died before the prctl would never send the signal (nsjail checks the same).
    """
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
    if not parent_alive():
        raise OSError(errno.ESRCH, "the parent ended before its death signal was armed")


def _pipe_open(fd: int) -> bool:
    """Whether the other end of the pipe ``fd`` is still open (its writer alive)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return not any(events & (select.POLLHUP | select.POLLERR) for _, events in poller.poll(0))


# -- the template


def _serve_requests(boot: ModuleType, control: socket.socket) -> None:
    template = os.getpid()
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(control, MAX_REQUEST_BYTES, MAX_FDS)
        except InterruptedError:
            continue
        if not message:
            return  # the host is gone
        _reap()
        try:
            request = json.loads(message)
            if len(fds) < 6:
                raise ValueError(f"{len(fds)} descriptors, 6 or more expected")
        except ValueError as exc:
            for fd in fds:
                os.close(fd)
            print(f"template: bad request: {exc}", file=sys.stderr)
            continue
        pid = os.fork()
        if pid == 0:
            code = SETUP_FAILED
            try:
                control.close()
                # The template goes when the host does; its keepers with it.
                _die_with_parent(lambda: os.getppid() == template)
                code = _keep(boot, request, fds)
            except BaseException:  # noqa: BLE001 - a keeper must end here, never return to the loop
                traceback.print_exc()
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--control-fd", type=int, required=True)
    args = parser.parse_args()
    boot = _load_boot()
    boot._preimport()
    control = socket.socket(fileno=args.control_fd)
    control.sendall(b'{"event": "ready"}')
    _serve_requests(boot, control)
    # Asked to stop: the keepers (and their sandboxes) die with this process, so
    # it stays until the gradings under way have ended.
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue


if __name__ == "__main__":
    sys.exit(main())
