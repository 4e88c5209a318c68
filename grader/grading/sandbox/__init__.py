"""Running one learner server in a sandbox.

A sandbox is started one of two ways, with the same confinement: through
bubblewrap (``bubblewrap.py``: a process tree in fresh user, PID, network, IPC,
UTS and mount namespaces), or, when the grader is root, forked from a template
that has the server libraries imported (``template.py`` on the host,
``grading/template_boot.py`` inside: new mount, PID, network, IPC, UTS and cgroup
namespaces, the slot's host uid). Either launcher returns a ``SandboxProcess``
that kills what it started through pidfds, never a bare pid. Its root is an empty read-only tmpfs holding only ``/usr``
(read-only), the learner runtime at ``/opt/runtime`` (read-only), a fresh
``/proc``, a minimal ``/dev`` (read-only) and small private tmpfs mounts at
``/tmp`` and ``/dev/shm``. Whole-tree limits on memory and process count come
from cgroups; per-process limits (CPU time, file size, open files, address space)
from rlimits. When the grader runs as root, each concurrent sandbox ("slot") runs
as a host uid of its own, so that bubblewrap never runs as root, RLIMIT_NPROC is
meaningful and every leftover process can be killed by uid.

The host creates, binds and listens on a Unix socket in a 0700 folder the sandbox
never sees and passes the listening socket in as a file descriptor; it then
connects to that socket by its host path. Nothing the sandbox can write is ever
opened, followed or deleted by the host.

One concern per module:

    config.py     SandboxConfig: where and as whom sandboxes run
    errors.py     the exceptions below
    capture.py    capped capture of the submission's output
    slots.py      slots (lock files, one host uid each) and killing a uid's processes
    lease.py      each grader's own block of uids; sweeping what a dead grader left
    cgroups.py    whole-sandbox memory and process limits
    command.py    bubblewrap's arguments, rlimits, the launcher's last steps
    enforcement.py which limits one sandbox got, in the report's words
    process.py    SandboxProcess (the launchers' common shape) and pidfd handles
    bubblewrap.py the launcher through bubblewrap
    template.py   the launcher that forks from a pre-imported template
    procfs.py     reading processes from /proc (also used by the self-test and the tests)
    lifecycle.py  Sandbox: start, load a submission, tear down
    pool.py       sandboxes started ahead of time, each serving one grading

Exceptions:

    SandboxError
    ├── SandboxUnavailable   this machine cannot run sandboxes (no bwrap, no runtime, ...)
    └── SandboxFailed        a sandbox could not start or be driven; the grader's fault
        ├── SlotsBusy        every slot stayed in use for the whole wait
        └── TemplateFailed   the template itself failed (only this retires it)
"""

from grader.grading.sandbox.capture import CappedBuffer
from grader.grading.sandbox.cgroups import CGROUP_ROOT, Cgroup
from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.confinement import SANDBOX_RUNTIME, bwrap_arguments
from grader.grading.sandbox.errors import SandboxError, SandboxFailed, SandboxUnavailable, SlotsBusy
from grader.grading.sandbox.lifecycle import LoadResult, Sandbox, started_sandbox
from grader.grading.sandbox.slots import MACHINE_LOCK_DIR, Slot, acquire_slot, kill_uid

__all__ = [
    "CGROUP_ROOT",
    "MACHINE_LOCK_DIR",
    "SANDBOX_RUNTIME",
    "CappedBuffer",
    "Cgroup",
    "LoadResult",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SandboxFailed",
    "SandboxUnavailable",
    "Slot",
    "SlotsBusy",
    "acquire_slot",
    "bwrap_arguments",
    "kill_uid",
    "started_sandbox",
]
