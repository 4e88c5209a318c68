"""Backup and restore of the embedded installation, on real SQLite files.

The live service under uploads is tests/e2e/test_backup_live.py; here the
copies themselves: a snapshot taken while another connection writes, every
table equal after a restore, and every refusal leaving nothing behind.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlmodel import Session

from grader import backup
from grader.config import Settings
from grader.db import create_db_engine
from tests.conftest import make_settings
from tests.factories import make_submission, make_user


def table_contents(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table of an SQLite file, in a stable order."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {name: sorted(connection.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
    finally:
        connection.close()


def files_in(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def filled(settings: Settings, synced: Session) -> Settings:
    """The test's installation with accounts, submissions (graded and queued), a queue file and a secret."""
    teacher = make_user(synced, role="instructor")
    for number in range(5):
        learner = make_user(synced)
        make_submission(synced, user=learner, status="graded", score=float(number), report=None)
        make_submission(synced, user=learner, source=f"# attempt {number}\n")
    assert teacher.id is not None
    queue = sqlite3.connect(settings.state_dir / "queue.sqlite3")
    queue.execute("CREATE TABLE task (id INTEGER PRIMARY KEY, queue TEXT, data BLOB, priority REAL)")
    queue.execute("INSERT INTO task (queue, data, priority) VALUES ('grader', x'00', 0)")
    queue.commit()
    queue.close()
    (settings.state_dir / "secret_key").write_text("a-generated-secret-of-this-state-folder")
    return settings


def fresh_state(tmp_path: Path, name: str) -> Settings:
    """Settings of a new state folder, as the command loads them: no fixed secret, so one is generated there."""
    folder = tmp_path / name
    return make_settings(folder, secret_key="")


def test_a_restore_gives_back_every_table_the_queue_and_the_secret(filled: Settings, tmp_path: Path):
    summary = backup.backup(filled, tmp_path / "backup")
    assert summary.files == ["grader.sqlite3", "queue.sqlite3", "secret_key"]
    assert summary.rows["submissions"] == 10
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["revision"] == summary.revision is not None

    target = fresh_state(tmp_path, "restored")
    restored = backup.restore(target, tmp_path / "backup")
    assert restored.files == ["grader.sqlite3", "queue.sqlite3", "secret_key"]
    assert table_contents(target.state_dir / "grader.sqlite3") == table_contents(filled.state_dir / "grader.sqlite3")
    assert table_contents(target.state_dir / "queue.sqlite3") == table_contents(filled.state_dir / "queue.sqlite3")
    assert (target.state_dir / "secret_key").read_text() == (filled.state_dir / "secret_key").read_text()
    assert (target.state_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    # What was restored is a database the service opens: its settings find the secret and the rows.
    engine = create_db_engine(target.effective_database_url)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM users").scalar() == 6
    engine.dispose()


def test_a_backup_taken_while_another_connection_writes_is_one_consistent_snapshot(filled: Settings, tmp_path: Path):
    database = filled.state_dir / "grader.sqlite3"
    before = table_contents(database)["submissions"]
    stop = threading.Event()
    written: list[int] = []
    failures: list[sqlite3.Error] = []

    def write() -> None:
        writer = sqlite3.connect(database, timeout=30)
        try:
            writer.execute("PRAGMA foreign_keys = ON")
            template = writer.execute(
                "SELECT user_id, exercise_id, max_score, seed FROM submissions LIMIT 1"
            ).fetchone()
            while not stop.is_set() and len(written) < 5000:
                cursor = writer.execute(
                    "INSERT INTO submissions (user_id, exercise_id, filename, source, status, max_score, seed,"
                    " created_at, infra_retries, counts_toward_limit)"
                    " VALUES (?, ?, 'a.py', 'x = 1', 'queued', ?, ?, CURRENT_TIMESTAMP, 0, 1)",
                    template,
                )
                writer.commit()
                written.append(int(cursor.lastrowid or 0))
        except sqlite3.Error as exc:
            failures.append(exc)
        finally:
            writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        for _ in range(2000):
            if len(written) >= 20 or failures:
                break
            stop.wait(0.005)
        backup.backup(filled, tmp_path / "backup")
    finally:
        stop.set()
        thread.join()
    assert not failures
    copied = table_contents(tmp_path / "backup" / "grader.sqlite3")["submissions"]
    ids = sorted(row[0] for row in copied)
    # A snapshot: everything there before, then a gapless run of the rows written meanwhile.
    assert set(before) <= set(copied)
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert len(before) + 20 <= len(copied) <= len(before) + len(written)
    backup.verify(tmp_path / "backup")


def test_a_backup_never_overwrites_and_a_failed_one_leaves_no_folder(filled: Settings, tmp_path: Path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup(filled, tmp_path / "taken")
    (filled.state_dir / "grader.sqlite3").unlink()
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.backup(filled, tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert not [path for path in tmp_path.iterdir() if ".partial-" in path.name]


def test_postgresql_is_pointed_to_pg_dump(tmp_path: Path):
    settings = make_settings(tmp_path, database_url="postgresql://postgres@127.0.0.1:5432/grader")
    with pytest.raises(backup.BackupError, match="pg_dump"):
        backup.backup(settings, tmp_path / "backup")


def test_restore_refuses_a_state_folder_in_use_and_changes_nothing(filled: Settings, tmp_path: Path):
    backup.backup(filled, tmp_path / "backup")
    before = table_contents(filled.state_dir / "grader.sqlite3")
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(filled, tmp_path / "backup")
    assert table_contents(filled.state_dir / "grader.sqlite3") == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip_a_byte", "checksum"),
        ("drop_the_queue", "missing"),
        ("drop_the_manifest", "not a backup"),
        ("unknown_revision", "unknown to this version"),
        ("unknown_file", "unexpected file"),
    ],
)
def test_restore_refuses_a_damaged_backup_and_leaves_the_state_folder_empty(
    filled: Settings, tmp_path: Path, damage: str, message: str
):
    folder = tmp_path / "backup"
    backup.backup(filled, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    if damage == "flip_a_byte":
        data = bytearray((folder / "grader.sqlite3").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / "grader.sqlite3").write_bytes(bytes(data))
    elif damage == "drop_the_queue":
        (folder / "queue.sqlite3").unlink()
    elif damage == "drop_the_manifest":
        (folder / "manifest.json").unlink()
    elif damage == "unknown_revision":
        connection = sqlite3.connect(folder / "grader.sqlite3")
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
        connection.commit()
        connection.close()
        manifest["revision"] = "9999"
        manifest["files"]["grader.sqlite3"]["sha256"] = backup._sha256(folder / "grader.sqlite3")
        (folder / "manifest.json").write_text(json.dumps(manifest))
    elif damage == "unknown_file":
        manifest["files"]["../outside"] = {"sha256": "0", "bytes": 0}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    target = fresh_state(tmp_path, "restored")
    generated = (target.state_dir / "secret_key").read_bytes() if (target.state_dir / "secret_key").exists() else None
    with pytest.raises(backup.BackupError, match=message):
        backup.restore(target, folder)
    left = files_in(target.state_dir)
    assert left == ([] if generated is None else ["secret_key"])
    if generated is not None:
        assert (target.state_dir / "secret_key").read_bytes() == generated


def test_the_commands_say_what_they_did_and_fail_with_a_reason(filled: Settings, tmp_path: Path, monkeypatch, capsys):
    from grader import cli, config

    monkeypatch.setattr(config, "get_settings", lambda: filled)
    assert cli.main(["backup", str(tmp_path / "backup")]) == cli.EXIT_OK
    assert "10 submissions" in capsys.readouterr().out
    assert cli.main(["backup", str(tmp_path / "backup")]) == cli.EXIT_FAILED
    assert "already exists" in capsys.readouterr().err

    target = fresh_state(tmp_path, "restored")
    monkeypatch.setattr(config, "get_settings", lambda: target)
    assert cli.main(["restore", str(tmp_path / "backup")]) == cli.EXIT_OK
    assert "restored" in capsys.readouterr().out
    assert cli.main(["restore", str(tmp_path / "backup")]) == cli.EXIT_FAILED
    assert "not empty" in capsys.readouterr().err
