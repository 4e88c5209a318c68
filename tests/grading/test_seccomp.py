"""The seccomp filter, installed for real in a forked child: each denied call fails with its errno.

The child installs the filter the way bubblewrap does (no_new_privs, then
``PR_SET_SECCOMP``), makes the calls and reports each call's errno over a pipe.
The same calls made without the filter show that the errno comes from the filter
and not from the kernel refusing bad arguments. Every call gets invalid
arguments (-1), so that a call the filter let through does nothing.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import signal
import struct

import pytest

from grader.grading import seccomp

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "AMD64"), reason="the filter is described for x86-64 only"
)

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
AF_INET, AF_INET6, AF_NETLINK = 2, 10, 16
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW = 1, 2, 3
FIONREAD = 0x541B  # between TIOCSTI and TIOCLINUX: an allowed ioctl amid the denied ones
GETPID, GETUID = 39, 102  # getuid lies between ptrace (101) and syslog (103), both denied
BAD = -1
LOCK_EX, LOCK_NB = 2, 4
F_GETFD, F_GETFL = 1, 3
CLONE_SIGHAND = 0x800
CLONE_NAMESPACES = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
_libc.syscall.argtypes = [ctypes.c_long] * 7
_libc.prctl.restype = ctypes.c_int
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _run_in_child(calls: list[tuple[int, ...]], *, filtered: bool) -> tuple[list[int], int]:
    """Make ``calls`` (number, args...) in a forked child; (errno of each call or 0, the child's wait status).

    Everything the child needs is built before the fork: it only makes system
    calls and writes fixed-size integers, so it takes no lock another thread of
    this process could hold.
    """
    program = seccomp.build_filter()
    assert program is not None
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    padded = [(number, *args, *([0] * (6 - len(args)))) for number, *args in calls]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        try:
            os.close(read_end)
            os.setsid()  # no controlling terminal, so vhangup has nothing to hang up
            if filtered:
                if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, None, 0, 0) != 0:
                    os._exit(3)
                if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
                    os._exit(4)
            for call in padded:
                result = _libc.syscall(*call)
                os.write(write_end, struct.pack("=i", ctypes.get_errno() if result == -1 else 0))
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 65536):
        data += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    return [value for (value,) in struct.iter_unpack("=i", data)], status


def _denied_calls() -> list[tuple[str, tuple[int, ...]]]:
    return [(name, (number, BAD, BAD, BAD, BAD, BAD, BAD)) for name, number in sorted(seccomp.X86_64_DENIED.items())]


def test_each_denied_call_fails_with_eperm_under_the_filter():
    denied = _denied_calls()
    errnos, status = _run_in_child([call for _, call in denied], filtered=True)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    got = {name: errno.errorcode.get(value, value) for (name, _), value in zip(denied, errnos, strict=True)}
    assert got == {name: "EPERM" for name, _ in denied}


@pytest.mark.skipif(os.geteuid() != 0, reason="without root the kernel itself answers EPERM to many of these calls")
def test_without_the_filter_the_same_calls_fail_otherwise():
    """So the EPERMs above are the filter's doing, whatever the kernel would say to the arguments."""
    denied = _denied_calls()
    unfiltered, status = _run_in_child([call for _, call in denied], filtered=False)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    same_without = [name for (name, _), value in zip(denied, unfiltered, strict=True) if value == errno.EPERM]
    assert same_without == []


def test_sockets_ioctls_clone_and_clone3_get_their_own_answers_and_allowed_calls_still_work():
    value = ctypes.c_int(0)
    lock = ctypes.create_string_buffer(64)  # a struct flock of zeros: a read lock on the whole file
    read_end, write_end = os.pipe()
    calls = {
        "socket AF_INET": (seccomp.X86_64_SOCKET, AF_INET, SOCK_STREAM, 0),
        "socket AF_INET6": (seccomp.X86_64_SOCKET, AF_INET6, SOCK_DGRAM, 0),
        "socket AF_NETLINK": (seccomp.X86_64_SOCKET, AF_NETLINK, SOCK_RAW, 0),
        "socket AF_UNIX": (seccomp.X86_64_SOCKET, seccomp.AF_UNIX, SOCK_STREAM, 0),
        "ioctl TIOCSTI": (seccomp.X86_64_IOCTL, read_end, seccomp.TIOCSTI, ctypes.addressof(value)),
        "ioctl TIOCLINUX": (seccomp.X86_64_IOCTL, read_end, seccomp.TIOCLINUX, ctypes.addressof(value)),
        "ioctl FIONREAD": (seccomp.X86_64_IOCTL, read_end, FIONREAD, ctypes.addressof(value)),
        "clone3": (seccomp.X86_64_CLONE3, 0, 0),
        **{
            f"clone {name}": (seccomp.X86_64_CLONE, flag | signal.SIGCHLD, 0, 0, 0, 0)
            for name, flag in CLONE_NAMESPACES.items()
        },
        # Let through to the kernel, which refuses the combination: the filter is not what answers.
        "clone CLONE_SIGHAND without CLONE_VM": (seccomp.X86_64_CLONE, CLONE_SIGHAND | signal.SIGCHLD, 0, 0, 0, 0),
        "getpid": (GETPID,),
        "getuid": (GETUID,),
        "flock LOCK_EX": (seccomp.X86_64_FLOCK, read_end, LOCK_EX | LOCK_NB),
        **{
            f"fcntl {name}": (seccomp.X86_64_FCNTL, read_end, command, ctypes.addressof(lock))
            for name, command in seccomp.FCNTL_LOCK_COMMANDS.items()
        },
        "fcntl F_GETFD": (seccomp.X86_64_FCNTL, read_end, F_GETFD),
        "fcntl F_GETFL": (seccomp.X86_64_FCNTL, read_end, F_GETFL),
    }
    try:
        errnos, status = _run_in_child(list(calls.values()), filtered=True)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    got = {name: errno.errorcode.get(value, value) for name, value in zip(calls, errnos, strict=True)}
    assert got == {
        "socket AF_INET": "EAFNOSUPPORT",
        "socket AF_INET6": "EAFNOSUPPORT",
        "socket AF_NETLINK": "EAFNOSUPPORT",
        "socket AF_UNIX": 0,
        "ioctl TIOCSTI": "EPERM",
        "ioctl TIOCLINUX": "EPERM",
        "ioctl FIONREAD": 0,
        "clone3": "ENOSYS",
        **{f"clone {name}": "EPERM" for name in CLONE_NAMESPACES},
        "clone CLONE_SIGHAND without CLONE_VM": "EINVAL",
        "getpid": 0,
        "getuid": 0,
        "flock LOCK_EX": "ENOLCK",
        **{f"fcntl {name}": "ENOLCK" for name in seccomp.FCNTL_LOCK_COMMANDS},
        "fcntl F_GETFD": 0,
        "fcntl F_GETFL": 0,
    }


def test_a_call_of_another_abi_kills_the_process():
    """The x32 ABI (the same numbers with bit 30 set) would bypass a filter written for x86-64 numbers."""
    errnos, status = _run_in_child([(seccomp.X32_SYSCALL_BIT | GETPID,), (GETPID,)], filtered=True)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS, status
    assert errnos == [], "the process died at the x32 call, before it could report anything"


def test_the_filter_is_handed_over_as_a_rewound_memory_file():
    fd = seccomp.filter_fd()
    assert fd is not None
    try:
        assert os.read(fd, 1 << 16) == seccomp.build_filter()
        assert not os.get_inheritable(fd)
    finally:
        os.close(fd)
