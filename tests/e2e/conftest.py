"""Fixtures of the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.grading.support import claim_uid_block

SLOTS = 4


@pytest.fixture
def uids() -> Iterator[range]:
    """Sandbox uids of a block claimed machine-wide for this test, so no other grader's sandboxes wait on them."""
    block = claim_uid_block()
    yield range(block.base, block.base + SLOTS)
    block.release()
