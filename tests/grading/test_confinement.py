"""Both ways of starting a sandbox follow one declared list of confinement steps, and produce the same sandbox.

Statically: every declared step has bubblewrap arguments (or is one the
launcher does itself) and a handler in the template's boot script. Live: a
probe reports what it finds (mounts and their options, hostname, environment,
working folder, rlimits, privileges, open descriptors) in a sandbox started
through bubblewrap and in one forked from the template; the two reports must
be the same but for the differences ``docs/sandbox.md`` names.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.grading import template_boot
from grader.grading.sandbox.confinement import LAUNCHER_STEPS, PTYS_PER_SANDBOX, bwrap_arguments, forked_steps, steps
from grader.grading.spec import Limits

from .support import find_probe, submission_text


def test_every_declared_step_is_followed_by_both_launchers():
    declared = steps(Path("/opt/grader-runtime/x"), Limits())
    names = [step.name for step in declared]
    assert names[0] == "namespaces" and names[-1] == "seccomp", "namespaces first, the filter last"
    for step in declared:
        assert step.bwrap or step.name in LAUNCHER_STEPS or step.name == "devpts", step.name
        assert step.name in template_boot.STEPS, f"the template has no handler for {step.name!r}"
    assert [step["step"] for step in forked_steps(Path("/x"), Limits())] == names
    arguments = bwrap_arguments(Path("/x"), Limits())
    assert arguments.index("--tmpfs") < arguments.index("--remount-ro"), "private mounts before read-only"


@pytest.mark.sandbox
@pytest.mark.skipif(os.geteuid() != 0, reason="a sandbox template needs a grader running as root")
def test_bubblewrap_and_the_template_produce_the_same_sandbox(grade, pooled_grade, message_echo):
    cold, forked = _probe(grade, message_echo), _probe(pooled_grade, message_echo)
    # The differences docs/sandbox.md names, both on the safe side: a forked sandbox covers
    # /proc/sys, /proc/irq and /proc/bus read-only always (bubblewrap only where they are
    # writable at set-up, which they are not for its sandbox user), and caps its terminals.
    for covered in ("/proc/sys", "/proc/irq", "/proc/bus"):
        forked["mounts"].pop(covered, None)
    assert f"max={PTYS_PER_SANDBOX}" in forked["mounts"]["/dev/pts"][2]
    forked["mounts"]["/dev/pts"][2].remove(f"max={PTYS_PER_SANDBOX}")
    assert cold == forked


def _probe(grade, spec) -> dict:
    report = grade(spec, submission_text("hostile", "confinement.py"))
    probe = find_probe(report)
    assert probe is not None, (report.error, report.stderr[-800:])
    assert probe["status"]["Seccomp"] == "2" and probe["status"]["NoNewPrivs"] == "1"
    return probe
