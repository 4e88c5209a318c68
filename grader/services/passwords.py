"""Passwords: the policy a new one must meet, and hashing with a bound on how many run at once.

The policy is a length and zxcvbn's strength estimate (a score of 0 to 4 built from
bundled lists of common passwords, words and names, keyboard patterns, repeats and
dates): ``12345678``, ``password``, eight spaces or one's own e-mail score 0 and are
refused with zxcvbn's own explanation.

argon2id is slow and memory-hard on purpose (64 MiB a hash by default), so an
unbounded number of sign-in or token requests at once would exhaust the
server's memory and CPU. Every hash and verification passes ``HashGate``: at
most ``slots`` run at once (one per core by default), a few more may wait a
little, and the rest are refused at once with ``Overloaded`` (503 and Retry-After)
instead of piling up in the web server's threads. Background work (the hashing of a
CSV import's passwords) goes through the same gate but takes a slot only while no
request is waiting for one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from grader.services.errors import InvalidInput, Overloaded

# argon2id with the library's defaults (RFC 9106's low-memory profile). Tests swap
# in argon2's cheapest parameters with ``use_hasher``.
_hasher = PasswordHasher()

# How many callers may wait for a slot, per slot, before the next is refused at once.
WAITERS_PER_SLOT = 4
# How often background hashing looks for a free slot that no request is waiting for.
PATIENT_POLL_SECONDS = 0.05


class HashGate:
    """At most ``slots`` password hashes at once; a bounded queue waits up to ``wait_seconds``."""

    def __init__(self, *, slots: int, wait_seconds: float) -> None:
        self.slots = max(1, slots)
        self.wait_seconds = wait_seconds
        self.max_waiting = self.slots * WAITERS_PER_SLOT
        self._slots = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self.waiting = 0
        self.running = 0
        self.peak = 0  # the most hashes ever running at once
        self.total = 0  # hashes run through this gate

    @contextmanager
    def slot(self, *, patient: threading.Event | None = None) -> Iterator[None]:
        """Hold one hashing slot, or raise ``Overloaded`` when none frees up in time.

        A ``patient`` caller (background work, never a request) waits until its event is
        set (then ``Overloaded``), and lets every waiting request go first: it takes a slot
        only while none waits.
        """
        if patient is not None:
            self._take_slot_when_no_request_waits(patient)
        else:
            self._wait_for_slot()
        with self._lock:
            self.running += 1
            self.total += 1
            self.peak = max(self.peak, self.running)
        try:
            yield
        finally:
            with self._lock:
                self.running -= 1
            self._slots.release()

    def _take_slot_when_no_request_waits(self, give_up: threading.Event) -> None:
        # A semaphore lets a thread that just released a slot take it again before a woken
        # waiter runs, so a loop of background hashes would starve sign-ins; checking the
        # waiters first gives requests priority (a request waits for one hash at most).
        while True:
            with self._lock:
                if self.waiting == 0 and self._slots.acquire(blocking=False):
                    return
            if give_up.wait(PATIENT_POLL_SECONDS):
                raise Overloaded("Hashing stopped: the service is stopping.", retry_after=60)

    def _wait_for_slot(self) -> None:
        with self._lock:
            if self.waiting >= self.max_waiting:
                raise _busy()
            self.waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self.wait_seconds)
        finally:
            with self._lock:
                self.waiting -= 1
        if not acquired:
            raise _busy()


def _busy() -> Overloaded:
    return Overloaded("The service is busy checking passwords; try again in a few seconds.", retry_after=2)


MIN_LENGTH = 8
MAX_LENGTH = 256
# zxcvbn's 2 is "somewhat guessable": safe against online guessing, which the sign-in
# throttle slows further; 0 and 1 are lists of common passwords and trivial patterns.
MIN_STRENGTH = 2
# zxcvbn's own bound: its matching grows quickly with length, and 72 characters say enough.
_ESTIMATE_LENGTH = 72
POLICY = "At least 8 characters, and not a common password or an easy pattern (like 12345678, password, or your name)."


def check_policy(password: str, *, user_inputs: list[str] | None = None) -> None:
    """``InvalidInput`` (field ``password``) unless ``password`` is long enough and hard enough to guess.

    ``user_inputs`` (the e-mail, the name) count as easy guesses too.
    """
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"The password needs at least {MIN_LENGTH} characters.", field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"The password can have at most {MAX_LENGTH} characters.", field="password")
    inputs = [item for item in (user_inputs or []) if item]
    inputs += [part for item in inputs for part in item.replace("@", " ").replace(".", " ").split()]
    estimate = zxcvbn(password[:_ESTIMATE_LENGTH], user_inputs=inputs)
    if estimate["score"] < MIN_STRENGTH:
        reason = estimate["feedback"]["warning"] or "It is too easy to guess."
        raise InvalidInput(
            f"Choose a password that is harder to guess. {reason} A few unrelated words make a good one.",
            field="password",
        )


def default_slots() -> int:
    """One hash at a time per core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_gate = HashGate(slots=default_slots(), wait_seconds=5.0)


def configure(*, slots: int, wait_seconds: float) -> None:
    """Replace the process's gate (``slots`` 0 means one per core); done when the web app is built."""
    global _gate
    _gate = HashGate(slots=slots or default_slots(), wait_seconds=wait_seconds)


def gate() -> HashGate:
    """The process's gate."""
    return _gate


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash and verify passwords with ``hasher`` from now on (tests make hashing cheap this way)."""
    global _hasher
    _hasher = hasher


def current_hasher() -> PasswordHasher:
    """The hasher in use."""
    return _hasher


def hash_password(password: str, *, patient: threading.Event | None = None) -> str:
    """An argon2id hash of ``password`` (waits for a hashing slot; ``patient``: until that event is set)."""
    with _gate.slot(patient=patient):
        return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (waits for a hashing slot)."""
    with _gate.slot():
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with older parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
