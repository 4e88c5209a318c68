"""Slots: a slot's uid is swept of leftover processes before use, unless its last holder left it clean."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import pytest

from grader.grading.sandbox import acquire_slot, started_sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture
def one_slot(sandbox_config, uid_block):
    """One slot of its own: the session's pools keep theirs busy, and release them clean, meanwhile."""
    if os.geteuid() != 0:
        pytest.skip("slots are host uids only when the grader runs as root")
    return dataclasses.replace(sandbox_config, uid_base=uid_block.spare_uid, slots=1)


def _crash_holding(config) -> None:
    """Claim the slot and let go of it as a crashed holder does: the lock goes, nothing is written."""
    slot = acquire_slot(config)
    os.close(slot._lock_fd)


def test_a_slot_is_clean_only_after_a_clean_release(one_slot):
    acquire_slot(one_slot).release(clean=True)
    slot = acquire_slot(one_slot)
    assert slot.clean
    slot.release()  # given back without saying its uid is clear
    slot = acquire_slot(one_slot)
    assert not slot.clean
    slot.release(clean=True)
    _crash_holding(one_slot)
    slot = acquire_slot(one_slot)
    assert not slot.clean
    slot.release()


def test_a_crashed_holders_leftover_process_is_killed_before_the_slot_is_used(one_slot, message_echo):
    _crash_holding(one_slot)
    uid = one_slot.uid_base
    leftover = subprocess.Popen(["/bin/sleep", "60"], user=uid, group=uid, extra_groups=[], start_new_session=True)
    try:
        with started_sandbox(one_slot, message_echo.limits, message_echo.entry_point) as sandbox:
            assert sandbox.slot is not None and sandbox.slot.uid == uid and not sandbox.slot.clean
            assert leftover.wait(timeout=5) == -9
    finally:
        if leftover.poll() is None:
            leftover.kill()
            leftover.wait()
    # Its tear-down found nothing of the uid left: the next holder need not sweep.
    slot = acquire_slot(one_slot)
    assert slot.clean
    slot.release(clean=True)


def test_a_clean_slot_is_not_swept_and_its_sandbox_starts(one_slot, message_echo):
    acquire_slot(one_slot).release(clean=True)
    with started_sandbox(one_slot, message_echo.limits, message_echo.entry_point) as sandbox:
        assert sandbox.slot is not None and sandbox.slot.clean
        assert sandbox.alive()
