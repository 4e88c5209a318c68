"""The sandbox's errors.

SandboxError
├── SandboxUnavailable   this machine cannot run sandboxes (no bwrap, no runtime, ...)
└── SandboxFailed        a sandbox could not start or be driven; the grader's fault
    ├── SlotsBusy        every slot stayed in use for the whole wait
    └── TemplateFailed   the sandbox template itself failed (dead, silent, could not fork)
"""

from __future__ import annotations


class SandboxError(Exception):
    """Base of the sandbox's errors."""


class SandboxUnavailable(SandboxError):
    """Sandboxes cannot run on this machine as configured; the message says what is missing."""


class SandboxFailed(SandboxError):
    """A sandbox failed for reasons that are not the submission's."""


class SlotsBusy(SandboxFailed):
    """Every sandbox slot stayed in use for as long as the grading could wait."""


class TemplateFailed(SandboxFailed):
    """The sandbox template itself failed: it is closed, does not answer or could not fork.

    Only this retires a template; a slot, cgroup or sandbox set-up error does not.
    """
