"""Which of the sandbox's limits are in force for one sandbox, in the words a report shows.

A report's ``limits_not_applied`` lists exactly what was missing, decided from
what the sandbox really got (its own host uid, its cgroups, its system-call
filter), never assumed: as root with cgroups the list is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_SANDBOX = "NO SANDBOX: the submission ran directly on the host"
HOST_USER = "separate host user per sandbox (needs a grader running as root)"
PROCESS_COUNT = "process count (needs a separate host user or cgroups)"
WHOLE_MEMORY = "memory limit for the whole sandbox (no writable cgroups; only per-process address space is bounded)"
SYSTEM_CALLS = "system-call filter (seccomp is described for x86-64 only)"


@dataclass(frozen=True)
class Enforcement:
    """What one sandbox got.

    sandboxed: it ran in the sandbox at all (not ``unsafe_no_sandbox``).
    own_uid: it ran as a host uid of its own (a slot's), so RLIMIT_NPROC and kill-by-uid hold.
    cgroup: memory and pids cgroups bound the whole sandbox.
    seccomp: the system-call filter was installed.
    """

    sandboxed: bool
    own_uid: bool
    cgroup: bool
    seccomp: bool

    @property
    def process_limit(self) -> bool:
        """Whether the number of processes is bounded (RLIMIT_NPROC of its own uid, or ``pids.max``)."""
        return self.sandboxed and (self.own_uid or self.cgroup)

    def not_applied(self) -> list[str]:
        """Every limit this sandbox went without, most serious first; empty when all are in force."""
        missing = []
        if not self.sandboxed:
            missing.append(NO_SANDBOX)
        if not (self.sandboxed and self.own_uid):
            missing.append(HOST_USER)
        if not self.process_limit:
            missing.append(PROCESS_COUNT)
        if not (self.sandboxed and self.cgroup):
            missing.append(WHOLE_MEMORY)
        if not (self.sandboxed and self.seccomp):
            missing.append(SYSTEM_CALLS)
        return missing


def process_limit_expected(*, as_root: bool, sandboxed: bool) -> bool:
    """Whether a sandbox started here must have its process count bounded.

    A grader running as root gives every sandbox a slot uid of its own, and so
    RLIMIT_NPROC at least; this is what the self-test holds the sandbox to,
    whatever a report says.
    """
    return as_root and sandboxed
