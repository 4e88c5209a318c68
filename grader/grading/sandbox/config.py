"""Where and as whom sandboxes run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.grading.runtime import LearnerRuntime
from grader.grading.sandbox.cgroups import CGROUP_ROOT


@dataclass(frozen=True)
class SandboxConfig:
    """Where and as whom sandboxes run.

    runtime: the learner runtime mounted read-only at /opt/runtime.
    state_dir: host-only folder for slot locks (created 0700).
    uid_base/slots: slot N runs as host uid and gid uid_base + N (root only).
    slot_wait_seconds: how long a grading waits for a free slot before it fails.
    unsafe_no_sandbox: run learner code directly on the host. Trusted local use only.
    cgroup_root: where the cgroup hierarchies are mounted; whole-sandbox limits need them writable.
    """

    runtime: LearnerRuntime
    state_dir: Path
    uid_base: int = 61000
    slots: int = 8
    slot_wait_seconds: float = 120.0
    unsafe_no_sandbox: bool = False
    cgroup_root: Path = CGROUP_ROOT

    @property
    def slot_uids(self) -> range:
        """Every host uid a sandbox of this configuration may run as."""
        return range(self.uid_base, self.uid_base + self.slots)
