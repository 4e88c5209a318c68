"""Each grader on a machine leases a block of sandbox uids of its own, and cleans what a dead one left."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from grader.grading.sandbox.lease import lease_uids, sweep_unleased

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids are leased by graders running as root")

HOLD_A_LEASE = """
import sys, time
from grader.grading.sandbox.lease import lease_uids
lease = lease_uids(int(sys.argv[1]), 4, lock_dir=__import__("pathlib").Path(sys.argv[2]))
print(lease.base, flush=True)
time.sleep(60)
"""


def test_two_graders_never_lease_the_same_uids(uid_block, tmp_path):
    """A second grader asking for the same first uid gets the next free block; a dead one's block is free again."""
    first = uid_block.spare_uid - 12  # inside this session's block: no other grader runs sandboxes there
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_LEASE, str(first), str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert other.stdout is not None and int(other.stdout.readline()) == first
        mine = lease_uids(first, 4, lock_dir=tmp_path)
        assert mine.base == first + 4, "the other grader's block is skipped"
        mine.release()
    finally:
        other.kill()
        other.wait()
    again = lease_uids(first, 4, lock_dir=tmp_path)
    assert again.base == first, "a grader that died gave its block back"
    again.release()


def test_cgroup_folders_of_a_grader_killed_mid_grading_are_removed_by_the_next_sweep(uid_block, tmp_path):
    """A killed worker cannot remove its sandbox's cgroup folders; the next sweep does, unless the uid is leased."""
    cgroups = tmp_path / "cgroup"
    orphan, leased_uid = uid_block.spare_uid - 2, uid_block.spare_uid - 1
    for uid in (orphan, leased_uid):
        for controller in ("memory", "pids"):
            (cgroups / controller / "grader" / f"uid{uid}").mkdir(parents=True)
    locks = tmp_path / "leases"
    holder = lease_uids(leased_uid, 1, lock_dir=locks, step=1 << 20)
    try:
        assert sweep_unleased(cgroups, lock_dir=locks) == [orphan]
    finally:
        holder.release()
    assert not (cgroups / "memory" / "grader" / f"uid{orphan}").exists()
    assert not (cgroups / "pids" / "grader" / f"uid{orphan}").exists()
    assert (cgroups / "memory" / "grader" / f"uid{leased_uid}").exists(), "a leased uid's cgroup is its grader's"


def test_a_lease_never_holds_nobody(tmp_path):
    lease = lease_uids(65530, 8, lock_dir=tmp_path)
    try:
        assert 65534 not in lease.uids and 65535 not in lease.uids
        assert lease.base == 65538
    finally:
        lease.release()
