"""Pre-started sandboxes: launched, server libraries imported, waiting for a submission.

Starting a sandbox costs an interpreter and the imports of FastAPI and uvicorn
(about half a second); the grading itself costs tens of milliseconds. A pool
keeps a few sandboxes started ahead of time, so a grading only pays for its own
work. Each pooled sandbox serves exactly ONE grading and is then destroyed: a
sandbox, or any process, that has run learner code is never used again. The
pool refills itself in the background.

When the grader runs as root, the pool starts a sandbox template first (see
``sandbox.template``): one interpreter with the libraries imported, which forks
each new sandbox in tens of milliseconds instead of starting an interpreter in
half a second. A ready sandbox is then a forked child waiting for its
submission, and a grading that finds none ready forks one on the spot. Without
a template (not root, or it failed to start), sandboxes start through
bubblewrap as ``autograder grade`` does.

A sandbox is started with the limits and the entry point of an exercise, so the
pool keeps sandboxes per kind (limits, entry point), for the kinds asked for
most recently. Tear-down (uvicorn's graceful shutdown, the kill sweeps, the
cgroup removal) runs on closer threads, after the report is out. ``close``
stops everything; it also runs at interpreter exit, and every sandbox dies with
the thread that launched it anyway (``--die-with-parent``), so none outlives the
grader.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import threading
import time
from collections import OrderedDict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from grader.grading.sandbox.config import SandboxConfig
from grader.grading.sandbox.errors import SandboxError, SandboxFailed, SlotsBusy, TemplateFailed
from grader.grading.sandbox.lifecycle import Sandbox
from grader.grading.sandbox.template import SandboxTemplate, available
from grader.grading.spec import Limits

log = logging.getLogger(__name__)

# A refill waits this long for a free slot before it looks again: gradings come first.
REFILL_SLOT_WAIT_SECONDS = 1.0
RETRY_FIRST_SECONDS = 1.0
RETRY_MAX_SECONDS = 30.0
CLOSER_THREADS = 2
# A template that failed stops taking requests at once but lives on until the
# gradings it forked have ended (each bounded by its own limits); past this, it is killed.
FAILED_TEMPLATE_GRACE_SECONDS = 900.0

# A template that ran this long before it failed had proven itself: the pause before the next starts afresh.
TEMPLATE_STABLE_SECONDS = 300.0

PoolKey = tuple[str, str]


@dataclass
class TemplateBackoff:
    """The pause before a new template after one failed: it doubles with each failure in a row.

    Only a template's own failures count, and only its lifetime resets the
    pause: one that ran ``stable_seconds`` before failing starts the count
    afresh. Successful gradings in between say nothing about an intermittent
    fault, so they leave it as it is.
    """

    first: float = RETRY_FIRST_SECONDS
    maximum: float = RETRY_MAX_SECONDS
    stable_seconds: float = TEMPLATE_STABLE_SECONDS
    delay: float = RETRY_FIRST_SECONDS

    def failed(self, ran_for: float | None) -> float:
        """The pause after a failure of a template that ran ``ran_for`` seconds (None: it never started)."""
        if ran_for is not None and ran_for >= self.stable_seconds:
            self.delay = self.first
        pause = self.delay
        self.delay = min(self.delay * 2, self.maximum)
        return pause


def _key(limits: Limits, entry_point: str) -> PoolKey:
    return (limits.model_dump_json(), entry_point)


@dataclass(frozen=True)
class PoolStatus:
    """What a pool holds now, for health pages and the self-test.

    size: ready sandboxes kept per kind of exercise (limits and entry point).
    kinds: kinds of exercise the pool keeps sandboxes for now.
    ready: started sandboxes waiting for a submission.
    starting: sandboxes being started in the background.
    closing: used sandboxes still being torn down.
    memory_bytes: memory the ready sandboxes hold, as their cgroups count it.
    max_memory_bytes: the pool stops filling past this.
    served: gradings served by a ready sandbox; cold: gradings that had to start one.
    last_error: why the last background start failed, if it did.
    template: whether sandboxes are forked from a running template (else started one by one).
    template_memory_bytes: resident memory of the template, outside ``max_memory_bytes`` (it is
        largely shared with the sandboxes forked from it).
    """

    size: int
    kinds: int
    ready: int
    starting: int
    closing: int
    memory_bytes: int
    max_memory_bytes: int
    served: int
    cold: int
    last_error: str | None
    template: bool = False
    template_memory_bytes: int = 0

    def to_dict(self) -> dict[str, object]:
        """The status as JSON-ready data."""
        return dataclasses.asdict(self)


class SandboxPool:
    """Keeps ``size`` started sandboxes per kind of exercise; each serves one grading."""

    def __init__(
        self,
        config: SandboxConfig,
        *,
        size: int = 2,
        max_kinds: int = 2,
        max_memory_bytes: int = 512 * 1024 * 1024,
        refill_threads: int = 1,
        idle_seconds: float = 600.0,
        template: bool = True,
    ) -> None:
        if config.unsafe_no_sandbox:
            raise ValueError("a pool keeps sandboxes; it has no meaning without the sandbox")
        self.config = config
        self.size = size
        self.max_kinds = max_kinds
        self.max_memory_bytes = max_memory_bytes
        self.idle_seconds = idle_seconds
        self._asked_at: dict[PoolKey, float] = {}
        self._refill_config = dataclasses.replace(config, slot_wait_seconds=REFILL_SLOT_WAIT_SECONDS)
        self._lock = threading.Condition()
        # Most recently asked-for kinds last; each with its limits, entry point and ready sandboxes.
        self._kinds: OrderedDict[PoolKey, tuple[Limits, str, deque[Sandbox]]] = OrderedDict()
        self._starting = 0
        self._launching: set[Sandbox] = set()
        self._served = 0
        self._cold = 0
        self._last_error: str | None = None
        self._retry_at = 0.0
        self._retry_delay = RETRY_FIRST_SECONDS
        self._closed = False
        self._closing: set[Future[None]] = set()
        self._use_template = template and available(config)
        self._template: SandboxTemplate | None = None
        self._template_retry_at = 0.0
        self._template_started_at: float | None = None
        self._template_backoff = TemplateBackoff()
        self._closer = ThreadPoolExecutor(max_workers=CLOSER_THREADS, thread_name_prefix="sandbox-close")
        # Long-lived on purpose: a sandbox dies with the thread that launched it.
        self._refillers = [
            threading.Thread(target=self._refill, name=f"sandbox-refill-{n}", daemon=True)
            for n in range(refill_threads)
        ]
        for thread in self._refillers:
            thread.start()
        _open_pools.add(self)

    # -- gradings

    def take(self, limits: Limits, entry_point: str) -> Sandbox:
        """A started sandbox for these limits: a ready one if the pool has it, else one started now.

        The caller owns it and hands it to ``discard`` when the grading is over.
        """
        key = _key(limits, entry_point)
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox pool is closed")
            kind = self._want(key, limits, entry_point)
            ready = kind[2]
            while ready:
                sandbox = ready.popleft()
                if sandbox.waiting():
                    self._served += 1
                    self._lock.notify_all()
                    return sandbox
                self._discard_locked(sandbox)
            self._cold += 1
            self._lock.notify_all()
            template = self._live_template()
        if template is not None:
            sandbox = Sandbox(self.config, limits, entry_point, template)
            try:
                sandbox.start()
                return sandbox
            except TemplateFailed as exc:
                self._template_failed(template, exc)
            except SandboxFailed as exc:  # a slot, cgroup or set-up error: not the template's
                log.warning("a forked sandbox did not start, starting one through bubblewrap: %s", exc)
        sandbox = Sandbox(self.config, limits, entry_point)
        sandbox.start()
        return sandbox

    def discard(self, sandbox: Sandbox) -> None:
        """Destroy a sandbox that served its grading, in the background."""
        with self._lock:
            self._discard_locked(sandbox)

    def prepare(self, limits: Limits, entry_point: str) -> None:
        """Start keeping sandboxes for this kind of exercise before its first grading."""
        with self._lock:
            self._want(_key(limits, entry_point), limits, entry_point)
            self._lock.notify_all()

    def wait_ready(self, limits: Limits, entry_point: str, timeout: float) -> bool:
        """Wait until the pool holds ``size`` ready sandboxes of this kind (for tests and benchmarks)."""
        key = _key(limits, entry_point)
        deadline = time.monotonic() + timeout
        with self._lock:
            self._want(key, limits, entry_point)
            self._lock.notify_all()
            while len(self._kinds[key][2]) < self.size:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._asked_at[key] = time.monotonic()  # waiting for a kind is asking for it
                self._lock.wait(min(remaining, 0.1))
                if key not in self._kinds:
                    return False
            return True

    def wait_template(self, timeout: float) -> bool:
        """Wait until sandboxes are forked from a running template (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._live_template() is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed or not self._use_template:
                    return False
                self._lock.notify_all()
                self._lock.wait(min(remaining, 0.1))
            return True

    def status(self) -> PoolStatus:
        """Sizes and counts now.

        The lock is held only to copy counts: memory is read from cgroup files
        and ``/proc`` after it is let go, so a health check never delays ``take``.
        """
        with self._lock:
            ready = [sandbox for _, _, queue in self._kinds.values() for sandbox in queue]
            self._closing = {future for future in self._closing if not future.done()}
            counts = {
                "kinds": len(self._kinds),
                "starting": self._starting,
                "closing": len(self._closing),
                "served": self._served,
                "cold": self._cold,
            }
            last_error, template = self._last_error, self._template
        return PoolStatus(
            size=self.size,
            ready=len(ready),
            memory_bytes=sum(sandbox.memory_bytes() for sandbox in ready),
            max_memory_bytes=self.max_memory_bytes,
            last_error=last_error,
            template=template is not None and template.alive(),
            template_memory_bytes=template.memory_bytes() if template is not None else 0,
            **counts,
        )

    def unused(self) -> list[Sandbox]:
        """The sandboxes the pool holds that no grading has had yet: ready ones and ones being started."""
        with self._lock:
            ready = [sandbox for _, _, queue in self._kinds.values() for sandbox in queue]
            return ready + list(self._launching)

    def wait_closed(self, timeout: float = 30.0) -> bool:
        """Wait until every sandbox handed to ``discard`` is torn down."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.1))
            return True

    def drain(self) -> None:
        """Destroy every sandbox of the pool and wait until all tear-downs are done.

        The pool forgets which kinds it was asked for, so it refills only after
        the next ``take`` or ``prepare``.
        """
        with self._lock:
            while True:
                for _, _, queue in self._kinds.values():
                    while queue:
                        self._discard_locked(queue.popleft())
                self._kinds.clear()
                self._asked_at.clear()
                if not self._starting:
                    break
                self._lock.wait(0.1)  # a start under way is discarded when it ends
        self.wait_closed(timeout=60.0)

    def close(self) -> None:
        """Stop refilling, destroy every sandbox of the pool and wait for it; safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._lock.notify_all()
        for thread in self._refillers:
            thread.join()
        self.drain()
        self._closer.shutdown(wait=True)
        with self._lock:
            template, self._template = self._template, None
        if template is not None:
            template.close()
        _open_pools.discard(self)

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- inside (call with the lock held)

    def _want(self, key: PoolKey, limits: Limits, entry_point: str) -> tuple[Limits, str, deque[Sandbox]]:
        kind = self._kinds.get(key)
        if kind is None:
            kind = (limits, entry_point, deque())
            self._kinds[key] = kind
        self._kinds.move_to_end(key)
        self._asked_at[key] = time.monotonic()
        while len(self._kinds) > self.max_kinds:
            self._forget_locked(next(iter(self._kinds)))
        return kind

    def _forget_locked(self, key: PoolKey) -> None:
        _, _, stale = self._kinds.pop(key)
        self._asked_at.pop(key, None)
        while stale:
            self._discard_locked(stale.popleft())

    def _expire_idle_locked(self) -> None:
        """Stop holding sandboxes (memory, slots) for kinds nobody asked for in ``idle_seconds``."""
        now = time.monotonic()
        for key in [key for key in self._kinds if now - self._asked_at.get(key, now) > self.idle_seconds]:
            self._forget_locked(key)

    def _discard_locked(self, sandbox: Sandbox) -> None:
        try:
            future = self._closer.submit(sandbox.close)
        except RuntimeError:
            # The interpreter is exiting (the pools are closed at exit): thread pools take no new
            # work then, so the sandbox is torn down here, or its processes and files would outlive us.
            with suppress(Exception):
                sandbox.close()
            return
        self._closing.add(future)
        future.add_done_callback(self._closed_one)

    def _closed_one(self, future: Future[None]) -> None:
        if future.exception() is not None:
            log.error("tearing down a sandbox failed", exc_info=future.exception())
        with self._lock:
            self._closing.discard(future)
            self._lock.notify_all()

    def _next_to_fill(self, ready_memory: int) -> tuple[Limits, str] | None:
        """The kind most in need of a sandbox, if the pool should start one now (``ready_memory``: read unlocked)."""
        if time.monotonic() < self._retry_at:
            return None
        held = sum(len(queue) for _, _, queue in self._kinds.values()) + self._starting
        if held >= self.size * max(len(self._kinds), 1):
            return None
        if self.max_memory_bytes and ready_memory >= self.max_memory_bytes:
            return None
        for limits, entry_point, queue in reversed(self._kinds.values()):
            if len(queue) + self._starting < self.size:
                return limits, entry_point
        return None

    def _ready_memory(self) -> int:
        """Memory of the ready sandboxes; call WITHOUT the lock (it reads cgroup files)."""
        with self._lock:
            ready = [sandbox for _, _, queue in self._kinds.values() for sandbox in queue]
        return sum(sandbox.memory_bytes() for sandbox in ready)

    def _live_template(self) -> SandboxTemplate | None:
        template = self._template
        return template if template is not None and template.alive() else None

    def _template_failed(self, template: SandboxTemplate, exc: Exception) -> None:
        """A template that cannot fork is closed; a refill thread starts another after a pause."""
        log.error("the sandbox template failed, starting sandboxes one by one meanwhile: %s", exc)
        with self._lock:
            if self._template is template:
                self._template = None
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._template_backoff_locked(ran=True)
            self._discard_forked_from_locked(template)
        threading.Thread(
            target=template.close,
            kwargs={"grace": FAILED_TEMPLATE_GRACE_SECONDS},
            name="sandbox-template-close",
            daemon=True,
        ).start()

    def _discard_forked_from_locked(self, template: SandboxTemplate) -> None:
        """Destroy the waiting sandboxes forked from ``template``: while they live, so does it."""
        for _, _, queue in self._kinds.values():
            for sandbox in [sandbox for sandbox in queue if sandbox.template is template]:
                queue.remove(sandbox)
                self._discard_locked(sandbox)

    def _template_due_locked(self) -> bool:
        """Whether the pool should use a template but none runs, and the pause after a failure is over."""
        if not self._use_template or self._live_template() is not None:
            return False
        return self._template is not None or time.monotonic() >= self._template_retry_at

    def _template_backoff_locked(self, *, ran: bool) -> None:
        """No new template for a while (see ``TemplateBackoff``); ``ran``: the failed one had started."""
        now = time.monotonic()
        started = self._template_started_at
        ran_for = now - started if ran and started is not None else None
        self._template_retry_at = now + self._template_backoff.failed(ran_for)
        self._template_started_at = None

    def _ensure_template(self) -> SandboxTemplate | None:
        """The running template, started here if the pool uses one and none runs (refill threads only).

        Started from a refill thread because it dies with the thread that
        launched it, and refill threads live as long as the pool.
        """
        with self._lock:
            if not self._use_template or self._closed:
                return None
            template = self._live_template()
            if template is not None:
                return template
            stale, self._template = self._template, None
            if stale is not None:
                self._last_error = "the sandbox template ended unexpectedly"
                self._template_backoff_locked(ran=True)
            starting = time.monotonic() >= self._template_retry_at
            if starting:
                self._template_retry_at = time.monotonic() + RETRY_MAX_SECONDS  # one thread starts it
        if stale is not None:
            log.error("the sandbox template ended unexpectedly; another starts in a while")
            stale.close()
        if not starting:
            return None
        template = SandboxTemplate(self.config)
        try:
            template.start()
        except SandboxError as exc:
            log.error("the sandbox template did not start, starting sandboxes one by one: %s", exc)
            with self._lock:
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._template_backoff_locked(ran=False)
            return None
        with self._lock:
            if self._closed:
                template.close()
                return None
            self._template = template
            self._template_retry_at = 0.0
            self._template_started_at = time.monotonic()
            return template

    # -- the refill thread

    def _refill(self) -> None:
        self._ensure_template()  # at once: the first grading should find it running
        while True:
            ready_memory = self._ready_memory()
            with self._lock:
                if self._closed:
                    return
                self._expire_idle_locked()
                wanted = self._next_to_fill(ready_memory)
                if wanted is None and not self._template_due_locked():
                    self._lock.wait(0.5)
                    continue
                if wanted is not None:
                    self._starting += 1
            if wanted is None:
                self._ensure_template()  # a full pool still gets its template back
                continue
            limits, entry_point = wanted
            template = self._ensure_template()
            sandbox = Sandbox(self._refill_config, limits, entry_point, template)
            with self._lock:
                self._launching.add(sandbox)
            try:
                sandbox.start()
            except SandboxError as exc:
                if template is not None and isinstance(exc, TemplateFailed):
                    self._template_failed(template, exc)
                self._start_failed(sandbox, exc)
                continue
            except Exception as exc:  # noqa: BLE001 - the refill thread must not die; the pool just stays cold
                log.exception("starting a pooled sandbox failed")
                self._start_failed(sandbox, exc)
                continue
            with self._lock:
                self._launching.discard(sandbox)
                self._starting -= 1
                self._retry_delay = RETRY_FIRST_SECONDS
                kind = self._kinds.get(_key(limits, entry_point))
                retired = template is not None and template is not self._template
                if self._closed or kind is None or retired:
                    self._discard_locked(sandbox)
                else:
                    kind[2].append(sandbox)
                self._lock.notify_all()

    def _start_failed(self, sandbox: Sandbox, exc: Exception) -> None:
        with self._lock:
            self._launching.discard(sandbox)
            self._starting -= 1
            if not isinstance(exc, SlotsBusy):  # every slot in use: the pool gives way to gradings
                self._last_error = f"{type(exc).__name__}: {exc}"
                self._retry_at = time.monotonic() + self._retry_delay
                self._retry_delay = min(self._retry_delay * 2, RETRY_MAX_SECONDS)
            self._lock.notify_all()


_open_pools: set[SandboxPool] = set()
_shared: dict[tuple[SandboxConfig, int, int, int, int, float, bool], SandboxPool] = {}
_shared_lock = threading.Lock()


def shared_pool(
    config: SandboxConfig,
    *,
    size: int,
    max_kinds: int,
    max_memory_bytes: int,
    refill_threads: int,
    idle_seconds: float,
    template: bool = True,
) -> SandboxPool | None:
    """This process's pool for ``config`` (one per configuration), or None when ``size`` is 0."""
    if size <= 0 or config.unsafe_no_sandbox:
        return None
    key = (config, size, max_kinds, max_memory_bytes, refill_threads, idle_seconds, template)
    with _shared_lock:
        pool = _shared.get(key)
        if pool is None or pool._closed:
            pool = SandboxPool(
                config,
                size=size,
                max_kinds=max_kinds,
                max_memory_bytes=max_memory_bytes,
                refill_threads=refill_threads,
                idle_seconds=idle_seconds,
                template=template,
            )
            _shared[key] = pool
        return pool


def open_pools() -> list[SandboxPool]:
    """Every pool of this process that is not closed."""
    return list(_open_pools)


def pool_status() -> PoolStatus | None:
    """The status of this process's pools added up, or None when it keeps no pool (for /readyz)."""
    statuses = [pool.status() for pool in list(_open_pools)]
    if not statuses:
        return None
    errors = [status.last_error for status in statuses if status.last_error]
    return PoolStatus(
        size=max(status.size for status in statuses),
        kinds=sum(status.kinds for status in statuses),
        ready=sum(status.ready for status in statuses),
        starting=sum(status.starting for status in statuses),
        closing=sum(status.closing for status in statuses),
        memory_bytes=sum(status.memory_bytes for status in statuses),
        max_memory_bytes=sum(status.max_memory_bytes for status in statuses),
        served=sum(status.served for status in statuses),
        cold=sum(status.cold for status in statuses),
        last_error=errors[-1] if errors else None,
        template=any(status.template for status in statuses),
        template_memory_bytes=sum(status.template_memory_bytes for status in statuses),
    )


@atexit.register
def _close_open_pools() -> None:
    for pool in list(_open_pools):
        with suppress(Exception):
            pool.close()
