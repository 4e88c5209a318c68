"""The instructor's views at course scale, on SQLite and on PostgreSQL.

Run by hand (not part of the test suite):

    .venv/bin/python benchmarks/dashboard.py --learners 5000 --per-learner 10 --runs 7

For each database it:
1. creates a database of its own (a temporary SQLite file; a PostgreSQL database
   on ``--postgres`` that it drops at the end), migrates it to ``SEED_REVISION``
   (the schema before the views' derived tables) and loads the content;
2. seeds the course with bulk inserts: ``--learners`` learners, each with
   ``--per-learner`` graded submissions carrying real reports (graded once by the
   real engine from our own example files, ~30 KB each) and one quiz attempt;
3. upgrades to the newest migration (timed: it backfills whatever the views derive);
4. starts the web service (uvicorn, a process of its own), signs in as an
   instructor and times each view over real HTTP: median and p95 of ``--runs``
   requests, and the web process's resident memory before, after and at its peak.

The live-update URLs are read from the dashboard page itself, so the same script
measures any version of the page.

To iterate on one view: ``--views csv`` measures only that view (see ``--help``),
and ``--keep NAME`` keeps the seeded course so that the next run with the same
NAME skips seeding and only upgrades it:

    .venv/bin/python benchmarks/dashboard.py --views csv --keep csv --runs 15
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert, inspect, text  # noqa: E402

from grader.config import Settings  # noqa: E402
from grader.db import create_db_engine, downgrade, migrate, normalize_url  # noqa: E402

COURSE_ID = 1
"""The course the seeded learners belong to (the migration puts every account in the default course)."""
COURSE = f"/courses/{COURSE_ID}"

SEED_REVISION = "0002"
"""The last migration before the views' derived tables: raw rows are seeded here."""

REPORT_SOURCES = [
    "examples/solution.py",
    "tests/grading/submissions/wrong/wrong_key.py",
    "tests/grading/submissions/wrong/raises_on_hello.py",
    "tests/grading/submissions/wrong/double_wrap.py",
    "tests/grading/submissions/wrong/status_201.py",
    "tests/grading/submissions/wrong/text_only.py",
    "tests/grading/submissions/wrong/hardcoded.py",
    "tests/grading/submissions/broken/syntax_error.py",
    "tests/grading/submissions/broken/import_missing_module.py",
]
PASSWORD = "benchmark password"
INSTRUCTOR_EMAIL = "teacher@example.org"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


# --- the reports ---------------------------------------------------------------------------


def real_reports(cache: Path) -> list[tuple[str, dict]]:
    """(source, report) pairs graded once by the real engine, kept in ``cache`` between runs."""
    if cache.exists():
        return [(item["source"], item["report"]) for item in json.loads(cache.read_text())]
    from grader.config import get_settings
    from grader.grading.runner import grade_source
    from grader.grading.spec import load_exercises

    settings = get_settings()
    spec = load_exercises(settings.exercises_dir)["message-echo"]
    pairs = []
    for relative in REPORT_SOURCES:
        source = (ROOT / relative).read_text()
        report = grade_source(spec, source, seed=1234, config=settings.sandbox_config()).to_dict()
        pairs.append((source, report))
    cache.write_text(json.dumps([{"source": s, "report": r} for s, r in pairs]))
    return pairs


def with_diagnoses(report: dict) -> dict:
    """The report with a ``diagnoses`` list in the pinned shape, made up from its failing cases if it has none."""
    if "diagnoses" in report:
        return report
    failing = [case["name"] for case in report.get("tests", []) if case.get("status") != "passed"]
    diagnoses = []
    if report.get("error"):
        kind = report["error"]["kind"]
        diagnoses.append(
            {
                "title": f"The program could not start ({kind})",
                "explanation": report["error"]["message"][:300],
                "fix": "Run the file yourself and read the last line of the error.",
                "cases": [],
                "line": 3,
            }
        )
    elif failing:
        title = {
            True: "Misspelt key `received`",
        }.get("recieved" in json.dumps(report.get("tests", []))[:20000], f"{len(failing)} cases give another answer")
        diagnoses.append(
            {
                "title": title,
                "explanation": "The reply differs from the expected one in the same way in every failing case.",
                "fix": "Compare your reply with the expected one, key by key.",
                "cases": failing,
                "line": 7,
            }
        )
    return {**report, "diagnoses": diagnoses}


# --- the databases -------------------------------------------------------------------------


class SqliteDatabase:
    def __init__(self, folder: Path, *, keep: str | None = None) -> None:
        path = Path(tempfile.gettempdir()) / f"grader-bench-{keep}.sqlite3" if keep else folder / "grader.sqlite3"
        self.url = f"sqlite:///{path}"
        self.keep = keep is not None

    def create(self) -> None:
        pass

    def drop(self) -> None:
        pass


class PostgresDatabase:
    def __init__(self, server_url: str, *, keep: str | None = None) -> None:
        self.server_url = normalize_url(server_url)
        self.name = f"grader_bench_{keep or uuid.uuid4().hex[:8]}"
        self.keep = keep is not None
        base = self.server_url.rsplit("/", 1)[0]
        self.url = f"{base}/{self.name}"

    def _admin(self):
        return create_engine(self.server_url, isolation_level="AUTOCOMMIT")

    def create(self) -> None:
        admin = self._admin()
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": self.name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        admin.dispose()

    def drop(self) -> None:
        if self.keep:
            return
        admin = self._admin()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        admin.dispose()


def seeded_learners(url: str) -> list[int] | None:
    """The learners of a database kept by an earlier run with ``--keep``, or None when it holds no course."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            if "users" not in inspect(connection).get_table_names():
                return None
            ids = connection.execute(text("SELECT id FROM users WHERE role = 'learner' ORDER BY id")).scalars().all()
            return list(ids) or None
    finally:
        engine.dispose()


# --- seeding -------------------------------------------------------------------------------


def seed(url: str, *, learners: int, per_learner: int, reports: list[tuple[str, dict]], settings: Settings) -> dict:
    """Bulk-insert the course; returns what was made (counts and a few ids)."""
    from sqlmodel import Session

    from grader.content import sync_content
    from grader.services.users import hash_password

    engine = create_db_engine(url)
    # The content is loaded by today's code (its models need today's tables), then the
    # schema goes back to SEED_REVISION, where the bulk rows are written as that version
    # stored them, so that the upgrade afterwards runs the backfill at full size.
    migrate(engine)
    with Session(engine) as session:
        sync_content(session, settings.exercises_dir, settings.quizzes_dir)
        session.commit()
    downgrade(engine, revision=SEED_REVISION)

    metadata_tables = _tables(engine)
    users, submissions, attempts, answers = (
        metadata_tables["users"],
        metadata_tables["submissions"],
        metadata_tables["quiz_attempts"],
        metadata_tables["attempt_answers"],
    )
    rng = random.Random(20261201)
    password_hash = hash_password(PASSWORD)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=30)
    with engine.begin() as connection:
        exercise_id, max_score = connection.execute(
            text("SELECT id, max_score FROM exercises WHERE slug = 'message-echo'")
        ).one()
        quiz_id = connection.execute(text("SELECT id FROM quizzes WHERE slug = 'message-cycle'")).scalar_one()
        questions = (
            connection.execute(
                text("SELECT id FROM questions WHERE quiz_id = :quiz AND active ORDER BY position"), {"quiz": quiz_id}
            )
            .scalars()
            .all()
        )
        choices = {
            question: connection.execute(
                text("SELECT id, is_correct FROM choices WHERE question_id = :q ORDER BY position"), {"q": question}
            ).all()
            for question in questions
        }
        connection.execute(
            insert(users),
            [
                {
                    "email": INSTRUCTOR_EMAIL,
                    "display_name": "Teacher",
                    "role": "instructor",
                    "password_hash": password_hash,
                    "created_at": start,
                }
            ],
        )
        connection.execute(
            insert(users),
            [
                {
                    "email": f"learner{number:05d}@example.org",
                    "display_name": f"{rng.choice(FIRST)} {rng.choice(LAST)} {number}",
                    "role": "learner",
                    "password_hash": password_hash,
                    "created_at": start,
                }
                for number in range(learners)
            ],
        )
        learner_ids = (
            connection.execute(text("SELECT id FROM users WHERE role = 'learner' ORDER BY id")).scalars().all()
        )

    # The report variants are serialised once; every submission points at one of them.
    batch: list[dict] = []
    made = 0

    def flush() -> None:
        nonlocal batch
        if batch:
            with engine.begin() as connection:
                connection.execute(insert(submissions), batch)
            batch = []

    variants = [(source, with_diagnoses(report)) for source, report in reports]
    for user_id in learner_ids:
        skill = rng.random()
        moment = start + timedelta(seconds=rng.randrange(0, 20 * 24 * 3600))
        for _ in range(per_learner):
            moment += timedelta(seconds=rng.randrange(60, 36 * 3600))
            # Stronger learners reach the reference solution more often.
            source, report = variants[0] if rng.random() < skill * 0.6 else rng.choice(variants[1:])
            created = min(moment, now)
            batch.append(
                {
                    "user_id": user_id,
                    "exercise_id": exercise_id,
                    "filename": "solution.py",
                    "source": source,
                    "status": "graded",
                    "score": report["score"],
                    "max_score": max_score,
                    "report": report,
                    "spec_hash": report["spec_hash"],
                    "seed": rng.randrange(2**31),
                    "created_at": created,
                    "enqueued_at": created,
                    "started_at": created,
                    "finished_at": created + timedelta(seconds=1),
                    "infra_retries": 0,
                    "counts_toward_limit": True,
                }
            )
            made += 1
            if len(batch) >= 500:
                flush()
    flush()

    attempt_rows = []
    for user_id in learner_ids:
        skill = rng.random()
        picks = []
        for question in questions:
            right = [c for c in choices[question] if c.is_correct]
            wrong = [c for c in choices[question] if not c.is_correct]
            # The last distractor of each question is never chosen: the report should notice it.
            pick = right[0] if rng.random() < 0.35 + 0.6 * skill else rng.choice(wrong[:-1] or wrong)
            picks.append((question, pick))
        attempt_rows.append((user_id, picks))
    with engine.begin() as connection:
        for offset in range(0, len(attempt_rows), 1000):
            chunk = attempt_rows[offset : offset + 1000]
            ids = []
            for user_id, picks in chunk:
                created = start + timedelta(seconds=rng.randrange(0, 30 * 24 * 3600))
                result = connection.execute(
                    insert(attempts).returning(attempts.c.id),
                    {
                        "user_id": user_id,
                        "quiz_id": quiz_id,
                        "score": sum(1 for _, c in picks if c.is_correct),
                        "max_score": len(picks),
                        "created_at": created,
                    },
                )
                ids.append(result.scalar_one())
            connection.execute(
                insert(answers),
                [
                    {
                        "attempt_id": attempt_id,
                        "question_id": question,
                        "choice_id": choice.id,
                        "correct": choice.is_correct,
                    }
                    for attempt_id, (_, picks) in zip(ids, chunk, strict=True)
                    for question, choice in picks
                ],
            )
    engine.dispose()
    return {
        "learners": len(learner_ids),
        "submissions": made,
        "attempts": len(attempt_rows),
        "learner_ids": learner_ids,
    }


def _tables(engine):
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(engine, only=["users", "submissions", "quiz_attempts", "attempt_answers"])
    return metadata.tables


FIRST = ["Ada", "Bea", "Chen", "Dara", "Emeka", "Fatima", "Goran", "Hana", "Ines", "Jonas", "Kofi", "Lea", "Mateo"]
LAST = ["Lovelace", "Okafor", "Novak", "Silva", "Tanaka", "Haddad", "Jensen", "Moreau", "Kowalski", "Rossi"]


# --- the web process -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """uvicorn serving the application in a process of its own."""

    def __init__(self, url: str, state_dir: Path) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "GRADER_DATABASE_URL": url,
            "GRADER_STATE_DIR": str(state_dir),
            "GRADER_SECRET_KEY": "benchmark-secret-key-long-enough-for-use",
            "GRADER_EMBEDDED_WORKER": "false",
            "GRADER_PORT": str(self.port),
            "GRADER_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "GRADER_ENVIRONMENT": "development",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "grader.web.app:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.base + "/login", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the web service did not start")

    def memory(self) -> dict[str, int]:
        """Resident and peak resident memory of the web process, in MiB."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) // 1024
        return values

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def sign_in(base: str) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=base, timeout=600)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": INSTRUCTOR_EMAIL, "password": PASSWORD, "csrf_token": token})
    assert response.status_code in (200, 303), response.status_code
    api = httpx.post(f"{base}/api/v1/token", data={"username": INSTRUCTOR_EMAIL, "password": PASSWORD}).json()
    return client, {"Authorization": f"Bearer {api['access_token']}"}


def timed(client: httpx.Client, url: str, runs: int, **kwargs) -> tuple[list[float], httpx.Response]:
    times = []
    response = None
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **kwargs)
        times.append(time.perf_counter() - started)
        if response.status_code >= 400:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return times, response


def walk_api(client: httpx.Client, headers: dict[str, str]) -> int:
    """Every row of the gradebook API, following ``next`` cursors when the API pages."""
    url, rows = f"/api/v1/gradebook?course_id={COURSE_ID}", 0
    while url:
        data = client.get(url, headers=headers).json()
        if isinstance(data, list):
            return len(data)
        rows += len(data["rows"])
        url = data.get("next")
    return rows


VIEWS = (
    "static",
    "dashboard",
    "live",
    "charts",
    "page",
    "mistakes",
    "cases",
    "sorted",
    "api",
    "api-all",
    "csv",
    "learner",
)
"""The views ``--views`` can pick, in the order they are measured."""


def measure(server: Server, learner_ids: list[int], runs: int, views: frozenset[str] = frozenset(VIEWS)) -> list[dict]:
    client, bearer = sign_in(server.base)
    results = []

    def record(view: str, url: str, times: list[float], response: httpx.Response) -> None:
        results.append(
            {
                "view": view,
                "url": url,
                "median_ms": 1000 * statistics.median(times),
                "p95_ms": 1000 * _percentile(times, 0.95),
                "bytes": len(response.content),
                "rss_mib": server.memory()["VmRSS"],
            }
        )
        print(
            f"  {view:32} median {results[-1]['median_ms']:9.1f} ms   p95 {results[-1]['p95_ms']:9.1f} ms"
            f"   {results[-1]['bytes']:>9} B   rss {results[-1]['rss_mib']} MiB",
            flush=True,
        )

    def simple(key: str, view: str, url: str, **kwargs) -> None:
        if key in views:
            times, response = timed(client, url, runs, **kwargs)
            record(view, url, times, response)

    simple("static", "baseline: a static file", "/static/app.css")
    if views & {"dashboard", "live", "mistakes", "cases"}:
        # The page gives the live parts' URLs and the drill-down links; timed only when asked for.
        times, page = timed(client, f"{COURSE}/dashboard", runs if "dashboard" in views else 1)
        if "dashboard" in views:
            record("dashboard page", f"{COURSE}/dashboard", times, page)
    # Each live part as the page's script asks for it: with its cursor when the page gives one
    # (nothing changed since), and once from the beginning (everything changed: the worst case).
    if "live" in views:
        for tag in re.findall(r"<[a-z]+ [^>]*data-live-[a-z-]+=\"/courses/[^>]*>", page.text):
            url = html_unescape(re.search(r'data-live-[a-z-]+="(/courses/[^"]+)"', tag).group(1))
            cursor = re.search(r'data-cursor="([^"]*)"', tag)
            name = url.split("?")[0]
            if cursor is None:
                times, response = timed(client, url, runs)
                record(f"live refresh {name}", url, times, response)
                continue
            separator = "&" if "?" in url else "?"
            quiet = f"{url}{separator}since={cursor.group(1)}"
            times, response = timed(client, quiet, runs)
            record(f"live {name}, no change", quiet, times, response)
            everything = f"{url}{separator}since=0"
            times, response = timed(client, everything, runs)
            record(f"live {name}, all changed", everything, times, response)
    simple("charts", "charts (overview)", f"{COURSE}/dashboard/overview")
    simple("page", "table rows, page 2", f"{COURSE}/dashboard/rows?page=2")
    for kind in ("mistakes", "cases"):
        link = re.search(rf'href="({COURSE}/{kind}\?[^"]+)"', page.text) if kind in views else None
        if link:
            url = html_unescape(link.group(1))
            times, response = timed(client, url, runs)
            record(f"drill-down: {kind}", url, times, response)
    simple("sorted", "table sorted and filtered", f"{COURSE}/dashboard?sort=best&order=desc&q=an")
    simple("api", "gradebook API (first answer)", f"/api/v1/gradebook?course_id={COURSE_ID}", headers=bearer)
    if "api-all" in views:
        started = time.perf_counter()
        rows = walk_api(client, bearer)
        print(f"  gradebook API, every row ({rows}): {1000 * (time.perf_counter() - started):.0f} ms")
    simple("csv", "CSV export", f"{COURSE}/gradebook.csv")
    if "learner" in views:
        sample = random.Random(7).sample(learner_ids, runs)
        times, response = [], None
        for user_id in sample:
            started = time.perf_counter()
            response = client.get(f"{COURSE}/learners/{user_id}")
            times.append(time.perf_counter() - started)
        record("learner page", f"{COURSE}/learners/{{id}}", times, response)
    return results


def html_unescape(url: str) -> str:
    import html

    return html.unescape(url)


ALTERNATIVES = {
    "stored standings (what the views read)": (
        "SELECT user_id, best_score, latest_score, submissions, last_activity FROM exercise_standings"
        " WHERE exercise_id = :exercise"
    ),
    "indexed aggregates over submissions instead": (
        "SELECT a.user_id, a.best, l.score, a.submissions, a.last_activity FROM"
        " (SELECT user_id, max(score) AS best, count(*) AS submissions, max(created_at) AS last_activity"
        "  FROM submissions WHERE exercise_id = :exercise GROUP BY user_id) a"
        " LEFT JOIN (SELECT user_id, score, row_number() OVER"
        "  (PARTITION BY user_id ORDER BY created_at DESC, id DESC) AS rank"
        "  FROM submissions WHERE exercise_id = :exercise AND score IS NOT NULL) l"
        " ON l.user_id = a.user_id AND l.rank = 1"
    ),
}


def measure_alternatives(url: str, runs: int) -> None:
    """Every learner's best, latest, count and activity on the exercise: read stored, or aggregated each time."""
    engine = create_db_engine(url)
    with engine.connect() as connection:
        exercise = connection.execute(text("SELECT id FROM exercises WHERE slug = 'message-echo'")).scalar_one()
        for name, sql in ALTERNATIVES.items():
            times = []
            for _ in range(min(runs, 3)):  # the aggregate takes tens of seconds on SQLite at full size
                started = time.perf_counter()
                connection.execute(text(sql), {"exercise": exercise}).all()
                times.append(time.perf_counter() - started)
            print(
                f"  {name:44} median {1000 * statistics.median(times):7.1f} ms"
                f"   p95 {1000 * _percentile(times, 0.95):7.1f} ms",
                flush=True,
            )
    engine.dispose()


def run_one(kind: str, database, args, reports, workdir: Path) -> dict:
    print(f"\n== {kind}: {args.learners} learners x {args.per_learner} submissions", flush=True)
    database.create()
    try:
        settings = Settings(
            _env_file=None,
            environment="test",
            state_dir=workdir,
            database_url=database.url,
            secret_key="benchmark-secret-key-long-enough-for-use",
        )
        kept = seeded_learners(database.url) if database.keep else None
        if kept is not None:
            made, seeded = {"learner_ids": kept}, 0.0
            print(f"  reusing the course kept in {database.url} ({len(kept)} learners)", flush=True)
        else:
            started = time.perf_counter()
            made = seed(
                database.url, learners=args.learners, per_learner=args.per_learner, reports=reports, settings=settings
            )
            seeded = time.perf_counter() - started
            print(f"  seeded in {seeded:.0f} s", flush=True)
        started = time.perf_counter()
        engine = create_db_engine(database.url)
        migrate(engine)
        engine.dispose()
        upgraded = time.perf_counter() - started
        print(f"  upgraded to the newest migration in {upgraded:.1f} s", flush=True)
        if "alternatives" in args.views:
            measure_alternatives(database.url, args.runs)
        server = Server(database.url, workdir)
        try:
            start_memory = server.memory()
            print(f"  web process at start: {start_memory['VmRSS']} MiB", flush=True)
            results = measure(server, made["learner_ids"], args.runs, frozenset(args.views) - {"alternatives"})
            end_memory = server.memory()
            print(f"  web process at the end: {end_memory['VmRSS']} MiB (peak {end_memory['VmHWM']} MiB)")
        finally:
            server.stop()
        return {
            "database": kind,
            "seed_s": seeded,
            "upgrade_s": upgraded,
            "results": results,
            "rss_start_mib": start_memory["VmRSS"],
            "rss_end_mib": end_memory["VmRSS"],
            "rss_peak_mib": end_memory["VmHWM"],
        }
    finally:
        database.drop()


def main() -> None:
    # A timeout or kill still stops the web process and drops the database (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--per-learner", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--reports-cache", type=Path, default=Path(tempfile.gettempdir()) / "grader-bench-reports.json")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--views",
        type=lambda value: value.split(","),
        default=[*VIEWS, "alternatives"],
        help=f"measure only these, comma-separated: {', '.join(VIEWS)}, alternatives (stored standings"
        " against aggregates); default all",
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="keep the seeded databases (a SQLite file in the temporary folder, a PostgreSQL database"
        " grader_bench_NAME) and reuse them on the next run with the same NAME; drop them by hand",
    )
    args = parser.parse_args()
    unknown = set(args.views) - {*VIEWS, "alternatives"}
    if unknown:
        parser.error(f"unknown views: {', '.join(sorted(unknown))}")

    reports = real_reports(args.reports_cache)
    sizes = [len(json.dumps(with_diagnoses(report))) for _, report in reports]
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{len(reports)} report variants, {min(sizes) // 1024}-{max(sizes) // 1024} KB each"
    )
    summary = []
    for kind in args.databases.split(","):
        workdir = Path(tempfile.mkdtemp(prefix="grader-bench-"))
        try:
            database = (
                SqliteDatabase(workdir, keep=args.keep)
                if kind == "sqlite"
                else PostgresDatabase(args.postgres, keep=args.keep)
            )
            summary.append(run_one(kind, database, args, reports, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
