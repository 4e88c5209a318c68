"""Backing up and restoring the embedded installation (SQLite database, SQLite queue, secret).

A backup is a folder written while the service runs:

* ``grader.sqlite3``: the database, copied with SQLite's online backup API, so
  it is one consistent snapshot even while learners upload and workers store
  results (in WAL mode the copy neither blocks them nor is blocked);
* ``queue.sqlite3``: the embedded queue, copied the same way (a task it misses
  or repeats is harmless: the submissions table is the record, the sweep
  re-sends what was never graded, and a worker skips what is already graded);
* ``secret_key``: the generated secret, so sessions and tokens stay valid;
* ``manifest.json``: what was copied, each file's SHA-256 and size, the schema
  revision, and row counts per table.

The folder is written beside its final name and renamed into place at the end,
so a backup that fails part-way never looks complete. ``restore`` checks every
file against the manifest and SQLite's integrity check before copying anything
into the state folder, and refuses a state folder that already holds a
database or a queue: it never overwrites a live installation (a secret alone,
as loading the settings generates in a new folder, is replaced).

PostgreSQL installations are backed up with ``pg_dump`` (docs/deploy.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from grader.config import Settings
from grader.db import alembic_config, is_sqlite, normalize_url

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_FILE = "grader.sqlite3"
QUEUE_FILE = "queue.sqlite3"
SECRET_FILE = "secret_key"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in an operator's words."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or a restore handled: the folder, the files and the rows per table."""

    path: Path
    files: list[str]
    rows: dict[str, int]
    revision: str | None


def _sqlite_path(url: str, what: str) -> Path:
    url = normalize_url(url)
    if not is_sqlite(url):
        raise BackupError(
            f"the {what} is not SQLite ({make_url(url).get_backend_name()}): back it up with its own tools "
            "(for PostgreSQL, pg_dump; see docs/deploy.md)"
        )
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"the {what} is an in-memory SQLite database: there is nothing on disk to back up")
    return Path(database)


def _queue_path(settings: Settings) -> Path | None:
    """The embedded queue's file, or None when the queue lives elsewhere (Redis, PostgreSQL)."""
    url = settings.effective_queue_url
    if not url.startswith("sqlite:"):
        return None
    return _sqlite_path(url, "queue")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file, as one self-contained file (no -wal beside it)."""
    if not source.exists():
        raise BackupError(f"{source} does not exist: is the state folder right?")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        writer = sqlite3.connect(target)
        try:
            # All pages in one step: a read transaction on the source for the whole copy,
            # so the copy is one snapshot; in WAL mode writers go on meanwhile.
            reader.backup(writer, pages=-1)
            writer.execute("PRAGMA journal_mode=DELETE")
            writer.commit()
        finally:
            writer.close()
    finally:
        reader.close()
    _fsync(target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_sqlite(path: Path) -> None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
        if not result or result[0] != "ok":
            raise BackupError(f"{path.name} fails SQLite's integrity check: {result[0] if result else 'no answer'}")
        broken = connection.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise BackupError(f"{path.name} has {len(broken)} row(s) whose references are missing")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path.name} is not a readable SQLite database: {exc}") from exc
    finally:
        connection.close()


def table_rows(path: Path) -> dict[str, int]:
    """Rows per table of an SQLite file (its own tables, not SQLite's)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        connection.close()


def _revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


@contextlib.contextmanager
def _folder_written_in_place(destination: Path) -> Iterator[Path]:
    """A temporary folder beside ``destination``, renamed to it only if the block succeeds."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        os.chmod(partial, 0o700)
        yield partial
        os.rename(partial, destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def backup(settings: Settings, destination: Path) -> BackupSummary:
    """Write a consistent backup of the embedded installation into the new folder ``destination``."""
    database = _sqlite_path(settings.effective_database_url, "database")
    queue = _queue_path(settings)
    if destination.exists():
        raise BackupError(f"{destination} already exists: name a new folder, so no earlier backup is overwritten")
    files: dict[str, dict[str, Any]] = {}
    with _folder_written_in_place(destination) as folder:
        _copy_sqlite(database, folder / DATABASE_FILE)
        copied = [DATABASE_FILE]
        if queue is not None and queue.exists():
            _copy_sqlite(queue, folder / QUEUE_FILE)
            copied.append(QUEUE_FILE)
        secret = settings.state_dir / SECRET_FILE
        if secret.exists():
            shutil.copyfile(secret, folder / SECRET_FILE)
            os.chmod(folder / SECRET_FILE, 0o600)
            _fsync(folder / SECRET_FILE)
            copied.append(SECRET_FILE)
        for name in copied:
            files[name] = {"sha256": _sha256(folder / name), "bytes": (folder / name).stat().st_size}
        rows = table_rows(folder / DATABASE_FILE)
        revision = _revision(folder / DATABASE_FILE)
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "revision": revision,
            "files": files,
            "rows": rows,
            "queue": "included" if QUEUE_FILE in copied else "not included (not the embedded queue)",
            "secret": "included" if SECRET_FILE in copied else "not included (set in the environment)",
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _fsync(folder / MANIFEST)
    return BackupSummary(path=destination, files=copied, rows=rows, revision=revision)


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise BackupError(f"{source} holds no {MANIFEST}: it is not a backup made by 'autograder backup'") from exc
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source / MANIFEST} cannot be read: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} was written in a backup format this version does not read")
    files = manifest.get("files")
    if not isinstance(files, dict) or DATABASE_FILE not in files:
        raise BackupError(f"{source / MANIFEST} lists no database")
    return manifest


def verify(source: Path) -> dict[str, Any]:
    """The backup's manifest, once every file in it matches its checksum and SQLite's checks."""
    manifest = _read_manifest(source)
    for name, facts in manifest["files"].items():
        if name not in (DATABASE_FILE, QUEUE_FILE, SECRET_FILE):
            raise BackupError(f"{source / MANIFEST} names an unexpected file {name!r}")
        path = source / name
        if not path.is_file():
            raise BackupError(f"{path} is missing from the backup")
        if _sha256(path) != facts.get("sha256"):
            raise BackupError(f"{path} does not match its checksum: the backup was changed or damaged")
    _check_sqlite(source / DATABASE_FILE)
    if QUEUE_FILE in manifest["files"]:
        _check_sqlite(source / QUEUE_FILE)
    return manifest


def _known_revision(revision: str | None) -> None:
    """Refuse a backup whose schema this version's migrations do not know (made by a newer version)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if revision is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = scripts.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupError(
            f"the backup's schema revision {revision} is unknown to this version: restore it with the version "
            "that made it (or a newer one)"
        )


def restore(settings: Settings, source: Path) -> BackupSummary:
    """Bring the backup in ``source`` back into the (empty) state folder the settings name."""
    database = _sqlite_path(settings.effective_database_url, "database")
    queue = _queue_path(settings)
    manifest = verify(source)
    _known_revision(manifest.get("revision"))
    targets = {DATABASE_FILE: database, SECRET_FILE: settings.state_dir / SECRET_FILE}
    if queue is not None:
        targets[QUEUE_FILE] = queue
    # A secret alone is no installation (loading the settings generates one in a new state folder):
    # it is replaced, and put back if the restore fails.
    present = [path for path in (database, Path(f"{database}-wal"), queue) if path is not None and path.exists()]
    if present:
        names = ", ".join(str(path) for path in present)
        raise BackupError(f"the state folder is not empty ({names}): restore only into a new state folder")
    secret = settings.state_dir / SECRET_FILE
    earlier_secret = secret.read_bytes() if secret.exists() else None
    restored: list[str] = []
    try:
        for name in manifest["files"]:
            target = targets.get(name)
            if target is None:
                continue  # a queue backup restored beside a shared queue: the sweep re-sends unfinished work
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.restoring")
            try:
                shutil.copyfile(source / name, partial)
                os.chmod(partial, 0o600)
                _fsync(partial)
                os.rename(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            restored.append(name)
    except BaseException:
        # Nothing half-restored: the state folder goes back to empty.
        for name in restored:
            targets[name].unlink(missing_ok=True)
        if earlier_secret is not None:
            secret.write_bytes(earlier_secret)
        raise
    return BackupSummary(
        path=settings.state_dir,
        files=restored,
        rows=dict(manifest.get("rows", {})),
        revision=manifest.get("revision"),
    )
