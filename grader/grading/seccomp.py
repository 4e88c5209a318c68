"""A seccomp filter for the sandbox, compiled to classic BPF by hand.

Bubblewrap installs it (``--seccomp FD``) just before it runs the submission. It
is a deny list in the spirit of Flatpak's and isolate's: system calls that reach
kernel surface a web app never needs (namespaces, mounts, tracing, keyrings,
BPF, io_uring, perf, modules, …) fail with EPERM; sockets other than AF_UNIX
fail with EAFNOSUPPORT; the TIOCSTI and TIOCLINUX terminal ioctls fail; file
locks (``flock``, ``fcntl`` locking commands) fail with ENOLCK; calls of
any other architecture or ABI (x32, 32-bit) kill the process. ``clone3`` fails
with ENOSYS so that the C library falls back to ``clone``, which fails with
EPERM when asked for a new namespace of any kind: bubblewrap's sandboxes could
not make one anyway (no capabilities, ``--disable-userns``), but a sandbox
forked from the template runs as a plain host uid, which may otherwise create a
user namespace.

Only x86-64 is described here; elsewhere ``build_filter`` returns None and the
report says the filter was not applied.
"""

from __future__ import annotations

import errno
import os
import platform
import struct

_LD_ABS_W = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06

_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000

_AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0, _OFFSET_ARG1 = 0, 4, 16, 24

AF_UNIX = 1
TIOCSTI = 0x5412
TIOCLINUX = 0x541C

# x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl) the filter answers with EPERM.
X86_64_DENIED = {
    "ptrace": 101,
    "syslog": 103,
    "vhangup": 153,
    "pivot_root": 155,
    "chroot": 161,
    "acct": 163,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "lookup_dcookie": 212,
    "mbind": 237,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "migrate_pages": 256,
    "unshare": 272,
    "move_pages": 279,
    "perf_event_open": 298,
    "fanotify_init": 300,
    # Watches on the runtime's and /usr's files (the same in every sandbox) would see a
    # neighbour open or read them: a channel between concurrent sandboxes.
    "inotify_init": 253,
    "inotify_init1": 294,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "kcmp": 312,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "open_tree": 428,
    "move_mount": 429,
    "fsopen": 430,
    "fsconfig": 431,
    "fsmount": 432,
    "fspick": 433,
    "pidfd_getfd": 438,
    "mount_setattr": 442,
}
X86_64_CLONE3 = 435
X86_64_CLONE = 56
# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
X86_64_SOCKET = 41
X86_64_IOCTL = 16
# File locks: the runtime and /usr are the same files in every sandbox, so a lock taken on one
# of them in a sandbox is seen by every other running at the same time (a channel between
# them). flock and the locking commands of fcntl fail with ENOLCK, on every file.
X86_64_FLOCK = 73
X86_64_FCNTL = 72
FCNTL_LOCK_COMMANDS = {
    "F_GETLK": 5,
    "F_SETLK": 6,
    "F_SETLKW": 7,
    "F_OFD_GETLK": 36,
    "F_OFD_SETLK": 37,
    "F_OFD_SETLKW": 38,
}


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _x86_64_program() -> bytes:
    program = [
        _op(_LD_ABS_W, _OFFSET_ARCH),
        _op(_JEQ_K, _AUDIT_ARCH_X86_64, jt=1, jf=0),
        _op(_RET_K, _RET_KILL_PROCESS),
        _op(_LD_ABS_W, _OFFSET_NR),
        _op(_JGE_K, X32_SYSCALL_BIT, jt=0, jf=1),
        _op(_RET_K, _RET_KILL_PROCESS),
    ]
    for number in sorted(X86_64_DENIED.values()):
        program += [_op(_JEQ_K, number, jt=0, jf=1), _op(_RET_K, _RET_ERRNO | errno.EPERM)]
    program += [_op(_JEQ_K, X86_64_CLONE3, jt=0, jf=1), _op(_RET_K, _RET_ERRNO | errno.ENOSYS)]
    program += [_op(_JEQ_K, X86_64_FLOCK, jt=0, jf=1), _op(_RET_K, _RET_ERRNO | errno.ENOLCK)]
    # fcntl(fd, command, ...): no file locks. The block ends in a return either way.
    commands = sorted(FCNTL_LOCK_COMMANDS.values())
    program += [_op(_JEQ_K, X86_64_FCNTL, jt=0, jf=len(commands) + 3), _op(_LD_ABS_W, _OFFSET_ARG1)]
    program += [_op(_JEQ_K, command, jt=len(commands) - n, jf=0) for n, command in enumerate(commands)]
    program += [_op(_RET_K, _RET_ALLOW), _op(_RET_K, _RET_ERRNO | errno.ENOLCK)]
    # socket(family, ...): only AF_UNIX. The block ends in a return either way.
    program += [
        _op(_JEQ_K, X86_64_SOCKET, jt=0, jf=4),
        _op(_LD_ABS_W, _OFFSET_ARG0),
        _op(_JEQ_K, AF_UNIX, jt=0, jf=1),
        _op(_RET_K, _RET_ALLOW),
        _op(_RET_K, _RET_ERRNO | errno.EAFNOSUPPORT),
    ]
    # clone(flags, ...): no new namespaces. The block ends in a return either way.
    program += [
        _op(_JEQ_K, X86_64_CLONE, jt=0, jf=4),
        _op(_LD_ABS_W, _OFFSET_ARG0),
        _op(_JSET_K, CLONE_NAMESPACE_FLAGS, jt=1, jf=0),
        _op(_RET_K, _RET_ALLOW),
        _op(_RET_K, _RET_ERRNO | errno.EPERM),
    ]
    # ioctl(fd, request, ...): no terminal input injection.
    program += [
        _op(_JEQ_K, X86_64_IOCTL, jt=0, jf=5),
        _op(_LD_ABS_W, _OFFSET_ARG1),
        _op(_JEQ_K, TIOCSTI, jt=2, jf=0),
        _op(_JEQ_K, TIOCLINUX, jt=1, jf=0),
        _op(_RET_K, _RET_ALLOW),
        _op(_RET_K, _RET_ERRNO | errno.EPERM),
    ]
    program.append(_op(_RET_K, _RET_ALLOW))
    return b"".join(program)


def build_filter() -> bytes | None:
    """The compiled filter for this machine, or None where it is not described."""
    if platform.machine() in ("x86_64", "AMD64"):
        return _x86_64_program()
    return None


def filter_fd() -> int | None:
    """An open, rewound memory file holding the filter, for ``bwrap --seccomp``; None if unsupported."""
    program = build_filter()
    if program is None:
        return None
    fd = os.memfd_create("grader-seccomp", os.MFD_CLOEXEC)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
