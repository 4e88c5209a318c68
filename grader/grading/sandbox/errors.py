"""The sandbox's errors.

SandboxError
├── SandboxUnavailable   this machine cannot run sandboxes (no bwrap, no runtime, ...)
└── SandboxFailed        a sandbox could not start or be driven; the grader's fault
    └── SlotsBusy        every slot stayed in use for the whole wait
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
