"""Settings: the only place that reads the environment.

Every value can be set with an environment variable prefixed ``GRADER_`` (for
example ``GRADER_DATABASE_URL``) or in a ``.env`` file in the working directory.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from grader.grading.sandbox import SandboxConfig
    from grader.grading.sandbox.pool import SandboxPool

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_PLACEHOLDER_SECRETS = {"", "changethis", "change-me", "secret"}


def _default_state_dir() -> Path:
    return PROJECT_ROOT / ".state"


def _default_runtime_parent() -> Path:
    """Where learner runtimes are kept: a system folder for root, the user's cache otherwise.

    The folder must be readable by the unprivileged sandbox uids, so it is never
    below a home directory when the grader runs as root.
    """
    if os.geteuid() == 0:
        return Path("/opt/grader-runtime")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader-runtime"


class Settings(BaseSettings):
    """Service settings. Field descriptions double as the operator's reference."""

    model_config = SettingsConfigDict(env_prefix="GRADER_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="Refuses placeholder secrets unless 'development' or 'test'."
    )
    state_dir: Path = Field(
        default_factory=_default_state_dir,
        description="Where the embedded database and queue live.",
    )
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in state_dir.")
    queue_url: str = Field(
        "",
        description="Huey storage: empty means SQLite in state_dir; redis://… or postgresql://… to share work across machines.",
    )
    queue_name: str = Field(
        "grader", description="Name of the grading queue: keeps several services apart on one Redis or PostgreSQL."
    )
    secret_key: str = Field(
        "",
        description=(
            "Signs session cookies and API tokens. Required in production; elsewhere, when empty, "
            "one is generated once and kept in state_dir/secret_key."
        ),
    )
    join_code: str = Field(
        "", description="Code that signs learners up into the default course until one is rotated in the app."
    )
    first_instructor_email: str = Field("", description="Created at start-up when no instructor exists.")
    first_instructor_password: str = Field(
        "", description="Password of the first instructor; generated and printed when empty."
    )
    host: str = Field("127.0.0.1", description="Address the web service listens on.")
    port: int = Field(8000, description="Port the web service listens on.")
    public_url: str = Field(
        "",
        description=(
            "Where people reach the service (scheme, host, port), e.g. https://grader.example.edu; "
            "every absolute URL is built from it, never from the Host header. Empty: http://host:port."
        ),
    )
    allowed_hosts: str = Field(
        "",
        description=(
            "Comma-separated Host header values the service answers ('*' for any); others get 400. "
            "Empty: the public URL's host in production, any elsewhere."
        ),
    )
    exercises_dir: Path = Field(PROJECT_ROOT / "exercises", description="Exercise definitions.")
    quizzes_dir: Path = Field(PROJECT_ROOT / "quizzes", description="Quiz definitions.")
    max_upload_bytes: int = Field(64 * 1024, description="Largest accepted solution file.")
    submission_interval_seconds: int = Field(10, description="A learner may start one grading per this many seconds.")
    session_max_age_seconds: int = Field(
        14 * 24 * 3600, description="How long a browser stays signed in without signing in again."
    )
    api_token_seconds: int = Field(12 * 3600, description="Lifetime of an API bearer token.")
    sign_in_free_failures: int = Field(
        5,
        description=(
            "Failed sign-ins at one e-mail from one client address before each further try there must wait "
            "(delays then double); tries from elsewhere are not held back."
        ),
    )
    sign_in_free_failures_per_address: int = Field(
        30,
        description=(
            "Failed sign-ins from one client address, at any e-mail, before delays start for e-mails "
            "that have not signed in from there lately."
        ),
    )
    sign_in_known_days: int = Field(
        30,
        ge=0,
        description="Days an e-mail that signed in from an address is not held back by that address's failures.",
    )
    join_code_free_failures: int = Field(
        5, description="Wrong join codes per client address before each further sign-up must wait (delays then double)."
    )
    throttle_max_delay_seconds: int = Field(900, description="The longest wait a throttled key is given.")
    password_hash_slots: int = Field(0, description="Password hashes one web process runs at once; 0: one per core.")
    password_hash_wait_seconds: float = Field(
        5.0, description="How long a sign-in waits for a hashing slot before it is answered 503."
    )
    max_connections: int = Field(
        1000,
        ge=2,
        description=(
            "Connections one web process serves at once (uvicorn's limit_concurrency); past it, new requests get 503."
        ),
    )
    max_streams: int = Field(
        500,
        ge=1,
        description=(
            "Live streams and long polls one web process holds at once, kept below max_connections so that "
            "sign-ins, uploads and /healthz always find room; past it, new ones get 503 (pages then poll)."
        ),
    )
    max_streams_per_account: int = Field(
        6, ge=1, description="Live streams and long polls one account holds in one web process; past it, 429."
    )
    stream_recheck_seconds: float = Field(
        3.0,
        gt=0,
        le=60,
        description="How often an open stream or long poll checks that its session or API token still holds.",
    )
    account_import_max_rows: int = Field(
        500,
        ge=1,
        description=(
            "Accounts one CSV import may list; their passwords are hashed in the background "
            "(argon2id at full cost each), one import at a time per web process."
        ),
    )
    quiz_max_attempts: int = Field(3, description="Quiz attempts a learner may make (0 for unlimited).")
    quiz_scoring: Literal["best", "last"] = Field("best", description="Which quiz attempt counts.")
    grading_lease_seconds: float = Field(
        30,
        gt=0,
        description=(
            "A grading's lease: renewed every third of it while the grading runs, so only a dead "
            "worker's grading (no renewal for this long) is graded again."
        ),
    )
    sweep_seconds: int = Field(
        15, ge=1, le=60, description="How often each worker looks for expired leases and lost tasks to send again."
    )
    worker_shutdown_seconds: float = Field(
        20,
        ge=0,
        description="On SIGTERM, how long gradings in progress may finish before they are handed back to the queue.",
    )
    grading_infra_retries: int = Field(
        3, description="Times a grading that failed for the grader's own reasons is tried again (with backoff)."
    )
    worker_threads: int = Field(2, description="Gradings the embedded worker runs at once.")
    max_pending_per_learner: int = Field(
        1,
        ge=0,
        description="Uploads of one learner that may wait or be graded at once; further ones get 429 (0: no limit).",
    )
    max_queued: int = Field(
        200, ge=0, description="Uploads that may wait for a grader; beyond it uploads get 503 (0: no limit)."
    )
    fix_checks: bool = Field(
        True,
        description=(
            "Grade each proposed fix on the learner's code (below learners' gradings in priority) "
            "before showing it as code."
        ),
    )
    fix_check_max_queue_depth: int = Field(
        20,
        ge=0,
        description="Tasks waiting in the queue beyond which fixes are not checked (said so on the card).",
    )
    fix_checks_per_submission: int = Field(
        3, ge=1, description="Fixes checked for one submission at most (one grading each)."
    )
    log_format: Literal["text", "json"] = Field("text", description="Log lines as text or as one JSON object each.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Least severe level logged.")
    metrics_allow: str = Field(
        "127.0.0.0/8,::1/128",
        description="Client networks (comma-separated) that may read /metrics without the token.",
    )
    metrics_token: str = Field("", description="Bearer token that opens /metrics from any address; empty: none.")
    worker_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port 'autograder worker' serves /metrics on (at the host setting); 0: none."
    )
    database_write_wait_seconds: float = Field(
        5.0,
        gt=0,
        description=(
            "How long a write waits for a busy database (another writer's lock, a free pooled connection) "
            "before the request is answered 503 with Retry-After."
        ),
    )
    min_free_disk_mb: int = Field(
        64,
        ge=0,
        description=(
            "Uploads are refused (507, Retry-After) and /readyz reports not ready below this much free space "
            "in the state folder; 0: no check."
        ),
    )
    embedded_worker: bool = Field(True, description="Run the grading worker inside 'autograder serve'.")
    sandbox_slots: int = Field(8, description="Concurrent sandboxes on this machine (one host uid each).")
    sandbox_uid_base: int = Field(
        61000,
        description=(
            "Slot N runs as host uid/gid sandbox_uid_base + N; a grader whose block another grader on the "
            "machine holds takes the next free one."
        ),
    )
    sandbox_uid_lease: bool = Field(
        True,
        description=(
            "Lease this process's own block of sandbox uids; false only where a parent process (a test "
            "session) holds the lease for it."
        ),
    )
    sandbox_pool_size: int = Field(
        2, ge=0, description="Sandboxes kept started ahead per kind of exercise; each serves one grading (0: none)."
    )
    sandbox_pool_kinds: int = Field(2, ge=1, description="Kinds of exercise (limits, entry point) the pool serves.")
    sandbox_pool_memory_mb: int = Field(512, ge=0, description="The pool stops filling past this much memory.")
    sandbox_pool_refill_threads: int = Field(1, ge=1, description="Sandboxes the pool starts at once.")
    sandbox_pool_idle_seconds: float = Field(
        600.0, gt=0, description="A kind of exercise not graded for this long stops holding sandboxes."
    )
    sandbox_template: bool = Field(
        True,
        description=(
            "Fork the pool's sandboxes from a template that has the server libraries imported "
            "(tens of milliseconds instead of half a second each); needs the grader to run as root."
        ),
    )
    learner_runtime_dir: Path | None = Field(
        None,
        description=(
            "Folder the learner runtimes are built in, one per hash of their inputs; when empty, "
            "/opt/grader-runtime as root and the user's cache folder otherwise."
        ),
    )
    sandbox_run_dir: Path | None = Field(
        None, description="Host-only folder for slot locks and sockets; state_dir/sandbox when empty."
    )
    unsafe_no_sandbox: bool = Field(
        False, description="Run learner code WITHOUT any sandbox. Only for trusted local use."
    )

    @model_validator(mode="after")
    def _settle_secret_key(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.strip().lower() in _PLACEHOLDER_SECRETS or len(self.secret_key) < 16:
                raise ValueError(
                    "GRADER_SECRET_KEY must be set, and not to a placeholder or short value, in production"
                )
        elif not self.secret_key:
            self.secret_key = _local_secret(self.state_dir / "secret_key")
        return self

    @model_validator(mode="after")
    def _check_stream_budget(self) -> Settings:
        if self.max_streams >= self.max_connections:
            raise ValueError(
                "GRADER_MAX_STREAMS must be below GRADER_MAX_CONNECTIONS: the difference is the room kept for "
                "sign-ins, uploads and health checks"
            )
        return self

    @model_validator(mode="after")
    def _check_public_url(self) -> Settings:
        if self.public_url:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("GRADER_PUBLIC_URL must start with http:// or https:// and name a host")
            if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
                raise ValueError("GRADER_PUBLIC_URL is a scheme, a host and a port only (no path)")
        return self

    @property
    def effective_public_url(self) -> str:
        """The service's public origin, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        # A wildcard listening address is not a place anyone can be sent to.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def effective_allowed_hosts(self) -> list[str]:
        """Host header values to answer; ``["*"]`` means any."""
        listed = [host.strip() for host in self.allowed_hosts.split(",") if host.strip()]
        if listed:
            return listed
        if self.environment == "production":
            return [urlsplit(self.effective_public_url).hostname or "*"]
        return ["*"]

    @property
    def learner_runtime_parent(self) -> Path:
        """Where learner runtimes are built: the setting, or the default for this user."""
        return self.learner_runtime_dir or _default_runtime_parent()

    @property
    def runtime_requirements(self) -> Path:
        """The packages of the learner runtime, declared beside the exercises."""
        return self.exercises_dir / "runtime-requirements.txt"

    def sandbox_config(self, *, unsafe_no_sandbox: bool | None = None, lease: bool = True) -> SandboxConfig:
        """The grading core's sandbox configuration built from these settings.

        With ``lease``, on this process's own block of sandbox uids (from
        ``sandbox_uid_base`` upward, see ``grading.sandbox.lease``).
        """
        from grader.grading import runtime
        from grader.grading.sandbox import SandboxConfig
        from grader.grading.sandbox.lease import leased

        config = SandboxConfig(
            runtime=runtime.locate(self.runtime_requirements, self.learner_runtime_parent),
            state_dir=self.sandbox_state_dir,
            uid_base=self.sandbox_uid_base,
            slots=self.sandbox_slots,
            unsafe_no_sandbox=self.unsafe_no_sandbox if unsafe_no_sandbox is None else unsafe_no_sandbox,
        )
        return leased(config) if lease and self.sandbox_uid_lease else config

    def sandbox_pool(self) -> SandboxPool | None:
        """This process's pool of pre-started sandboxes for these settings, or None when its size is 0."""
        from grader.grading.sandbox.pool import shared_pool

        return shared_pool(
            self.sandbox_config(),
            size=self.sandbox_pool_size,
            max_kinds=self.sandbox_pool_kinds,
            max_memory_bytes=self.sandbox_pool_memory_mb * 1024 * 1024,
            refill_threads=self.sandbox_pool_refill_threads,
            idle_seconds=self.sandbox_pool_idle_seconds,
            template=self.sandbox_template,
        )

    @property
    def metrics_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``metrics_allow`` parsed into networks."""
        import ipaddress

        return [
            ipaddress.ip_network(item.strip(), strict=False) for item in self.metrics_allow.split(",") if item.strip()
        ]

    @property
    def sandbox_state_dir(self) -> Path:
        """Host-only folder for slot locks and the sandboxes' sockets."""
        return self.sandbox_run_dir or self.state_dir / "sandbox"

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the state directory."""
        return self.database_url or f"sqlite:///{self.state_dir / 'grader.sqlite3'}"

    @property
    def effective_queue_url(self) -> str:
        """The queue URL, defaulting to SQLite in the state directory."""
        return self.queue_url or f"sqlite:///{self.state_dir / 'queue.sqlite3'}"


def _local_secret(path: Path) -> str:
    """A secret generated once for this state folder, so sign-ins survive restarts."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
