"""The ``autograder`` command line.

Exit status: 0 when a report was produced (whatever the score), 2 for a usage
error, 3 when the sandbox cannot be set up on this machine.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grader.config import Settings
    from grader.grading.spec import ExerciseSpec

DESCRIPTION = (
    "Grade learners' web applications in a sandbox and run the grading service. "
    "Exit status: 0 when a report was produced, 2 for a usage error, 3 when the sandbox cannot be set up here."
)
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_SANDBOX = 3


class UsageError(Exception):
    """A mistake in how the command was called; the message is shown as is."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograder`` command."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=DESCRIPTION)
    commands = parser.add_subparsers(metavar="COMMAND")
    _add_engine_commands(commands)
    _add_service_commands(commands)
    return parser


# --- grading engine -------------------------------------------------------------


def _add_engine_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grade = commands.add_parser("grade", help="grade one solution file and print the report")
    grade.add_argument("path", type=Path, help="the learner's Python file")
    grade.add_argument("--exercise", help="exercise slug (needed when there are several)")
    grade.add_argument("--json", action="store_true", help="print the report as one JSON object")
    grade.add_argument("--seed", type=int, help="seed for the random cases (replays a grading)")
    grade.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="DANGER: run the file WITHOUT any sandbox; only for code you trust",
    )
    grade.set_defaults(handler=_cmd_grade)

    exercises = commands.add_parser("exercises", help="list the exercises and their cases")
    exercises.set_defaults(handler=_cmd_exercises)

    runtime = commands.add_parser("runtime", help="manage the learner runtime")
    runtime_commands = runtime.add_subparsers(metavar="ACTION")
    build = runtime_commands.add_parser(
        "build", help="build the learner runtime if missing, then prune the old ones (as 'prune' does)"
    )
    build.set_defaults(handler=_cmd_runtime_build)
    prune = runtime_commands.add_parser(
        "prune", help="delete old learner runtimes: not the current one, none in use or used lately"
    )
    prune.add_argument(
        "--unused-hours",
        type=float,
        default=24,
        help="keep a runtime a grading started with less than this many hours ago (default: 24)",
    )
    prune.set_defaults(handler=_cmd_runtime_prune)

    selftest = commands.add_parser("selftest", help="check that the sandbox contains hostile programs")
    selftest.add_argument("--json", action="store_true", help="print the results as JSON")
    selftest.set_defaults(handler=_cmd_selftest)


def _load_exercises() -> dict[str, ExerciseSpec]:
    from grader.config import get_settings
    from grader.grading.spec import SpecError, load_exercises

    try:
        return load_exercises(get_settings().exercises_dir)
    except SpecError as exc:
        raise UsageError(str(exc)) from exc


def _pick_exercise(exercises: dict[str, ExerciseSpec], slug: str | None) -> ExerciseSpec:
    if slug is not None:
        if slug not in exercises:
            raise UsageError(f"unknown exercise {slug!r}; known: {', '.join(exercises) or 'none'}")
        return exercises[slug]
    if len(exercises) == 1:
        return next(iter(exercises.values()))
    if not exercises:
        raise UsageError("there is no exercise to grade against")
    raise UsageError(f"several exercises exist; pick one with --exercise ({', '.join(exercises)})")


def _cmd_grade(args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.grading.fixcheck import check_fixes
    from grader.grading.runner import grade_source
    from grader.grading.sandbox import SandboxUnavailable
    from grader.grading.submission import read_submission
    from grader.grading.textreport import render_text

    exercise = _pick_exercise(_load_exercises(), args.exercise)
    settings = get_settings()
    try:
        source = read_submission(args.path, max_bytes=settings.max_upload_bytes)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    config = settings.sandbox_config(unsafe_no_sandbox=args.unsafe_no_sandbox)
    if args.unsafe_no_sandbox:
        print("autograder: WARNING: running the submission WITHOUT a sandbox", file=sys.stderr)
    try:
        report = grade_source(exercise, source, seed=args.seed, config=config)
        # Not under a service's load: every proposed edit is graded before it is printed as code.
        report = check_fixes(
            source, report, lambda changed: grade_source(exercise, changed, seed=report.seed, config=config)
        )
    except SandboxUnavailable as exc:
        print(f"autograder: the sandbox cannot be set up here: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report, source))
    return EXIT_OK


def _cmd_exercises(_args: argparse.Namespace) -> int:
    from grader.grading.visibility import STAFF_WORDS

    for exercise in _load_exercises().values():
        print(f"{exercise.slug}  ({exercise.max_score:g} points)  {exercise.title}")
        for case in exercise.cases:
            count = f" ×{case.random}" if case.random else ""
            shown_when = f" ({STAFF_WORDS[case.visibility]})" if case.visibility != "visible" else ""
            print(f"  - {case.name}{count}: {case.description} [{case.points:g}]{shown_when}")
    return EXIT_OK


def _cmd_runtime_build(_args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.grading import runtime

    settings = get_settings()
    try:
        built = runtime.build(settings.runtime_requirements, settings.learner_runtime_parent)
    except runtime.RuntimeBuildError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    print(f"learner runtime: {built.root}")
    _print_pruned(runtime.prune(settings.learner_runtime_parent, keep=built))
    return EXIT_OK


def _cmd_runtime_prune(args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.grading import runtime

    settings = get_settings()
    current = runtime.locate(settings.runtime_requirements, settings.learner_runtime_parent)
    removed = runtime.prune(
        settings.learner_runtime_parent, keep=current, unused_seconds=max(args.unused_hours, 0) * 3600
    )
    _print_pruned(removed)
    if not removed:
        print("no old learner runtime to delete")
    return EXIT_OK


def _print_pruned(removed: list[Path]) -> None:
    for path in removed:
        print(f"deleted old learner runtime: {path}")


def _cmd_selftest(args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.grading.sandbox import SandboxUnavailable
    from grader.grading.selftest import run_selftest

    settings = get_settings()
    try:
        results = run_selftest(settings.sandbox_config(), template=_uses_template(settings))
    except SandboxUnavailable as exc:
        print(f"autograder: the sandbox cannot be set up here: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    if args.json:
        json.dump([result.to_dict() for result in results], sys.stdout)
        sys.stdout.write("\n")
    else:
        for result in results:
            print(f"{'ok  ' if result.contained else 'FAIL'} {result.name}: {result.detail}")
        print(_pool_report(settings))
    return EXIT_OK if all(result.contained for result in results) else EXIT_FAILED


def _uses_template(settings: Settings) -> bool:
    """Whether gradings fork their sandboxes from a template (so the self-test must check that path too)."""
    return settings.sandbox_template and settings.sandbox_pool_size > 0


def _pool_report(settings: Settings) -> str:
    """One line on the pool of pre-started sandboxes: its settings, and one sandbox started ahead for real."""
    import time

    from grader.grading.sandbox.pool import SandboxPool
    from grader.grading.spec import Limits

    size = settings.sandbox_pool_size
    if size == 0:
        return "pool: off (GRADER_SANDBOX_POOL_SIZE=0): every grading starts its own sandbox"
    began = time.monotonic()
    with SandboxPool(settings.sandbox_config(), size=1, max_kinds=1, template=settings.sandbox_template) as pool:
        ready = pool.wait_ready(Limits(), "app", timeout=30)
        took = time.monotonic() - began
        status = pool.status()
    settings_text = (
        f"{size} per kind of exercise, {settings.sandbox_pool_kinds} kinds, "
        f"at most {settings.sandbox_pool_memory_mb} MB, {settings.sandbox_pool_refill_threads} refill thread(s)"
    )
    if not ready:
        return f"pool: {settings_text}; FAILED to start a sandbox ahead: {status.last_error or 'timed out'}"
    if status.template:
        how = f"forked from a template holding {status.template_memory_bytes / 2**20:.0f} MB"
    elif settings.sandbox_template:
        how = f"started one by one (no template: {status.last_error or 'the grader is not root'})"
    else:
        how = "started one by one (GRADER_SANDBOX_TEMPLATE=false)"
    return (
        f"pool: {settings_text}; sandboxes {how}; the first was ready in {took:.2f} s "
        f"holding {status.memory_bytes / 2**20:.0f} MB"
    )


# --- web service ----------------------------------------------------------------


def _add_service_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Operator commands of the web service (serve, worker, migrate, ...)."""
    serve = commands.add_parser(
        "serve", help="migrate, load the content, and serve the web service (with its grading worker)"
    )
    serve.add_argument("--host", help="address to listen on (default: the host setting)")
    serve.add_argument("--port", type=int, help="port to listen on (default: the port setting)")
    serve.add_argument(
        "--skip-selftest",
        action="store_true",
        help="serve without first checking that the sandbox contains hostile programs",
    )
    serve.set_defaults(handler=_cmd_serve)

    worker = commands.add_parser("worker", help="run a grading worker (for a shared queue)")
    worker.add_argument("--threads", type=int, help="gradings at once (default: the worker_threads setting)")
    worker.add_argument(
        "--skip-selftest",
        action="store_true",
        help="start without first checking that the sandbox contains hostile programs",
    )
    worker.set_defaults(handler=_cmd_worker)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.set_defaults(handler=_cmd_migrate)

    sync = commands.add_parser("sync-content", help="load exercises/ and quizzes/ into the database")
    sync.set_defaults(handler=_cmd_sync_content)

    create_user = commands.add_parser("create-user", help="create an account, or many from a CSV file")
    create_user.add_argument("--email")
    create_user.add_argument("--name", help="display name")
    create_user.add_argument("--role", default="learner", help="the account's role (default: learner)")
    create_user.add_argument("--password", help="generated and printed when omitted")
    create_user.add_argument(
        "--csv", type=Path, metavar="FILE", help="CSV with a header row: email, display_name[, role, password]"
    )
    create_user.set_defaults(handler=_cmd_create_user)

    course = commands.add_parser("course", help="create and list courses")
    course_commands = course.add_subparsers(metavar="ACTION")
    course_create = course_commands.add_parser("create", help="create a course with its own join code")
    course_create.add_argument("title")
    course_create.add_argument(
        "--instructor", required=True, metavar="EMAIL", help="the instructor account that teaches it"
    )
    course_create.set_defaults(handler=_cmd_course_create)
    course_list = course_commands.add_parser("list", help="list the courses with their join codes")
    course_list.set_defaults(handler=_cmd_course_list)

    backup = commands.add_parser(
        "backup", help="write a consistent copy of the embedded database, queue and secret while the service runs"
    )
    backup.add_argument("path", type=Path, help="a new folder to write the backup into")
    backup.set_defaults(handler=_cmd_backup)

    restore = commands.add_parser("restore", help="bring a backup back into an empty state folder")
    restore.add_argument("path", type=Path, help="a folder written by 'autograder backup'")
    restore.set_defaults(handler=_cmd_restore)

    _add_lti_commands(commands)


def _add_lti_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """LTI 1.3: register an LMS, list the registrations, rotate the tool's signing key (docs/lti.md)."""
    lti = commands.add_parser("lti", help="connect learning management systems over LTI 1.3 (docs/lti.md)")
    lti_commands = lti.add_subparsers(metavar="ACTION")
    register = lti_commands.add_parser("register", help="register an LMS that launches the grader")
    register.add_argument("--issuer", required=True, help="the LMS's issuer (iss), e.g. https://canvas.instructure.com")
    register.add_argument("--client-id", required=True, help="the client id the LMS gave the tool")
    register.add_argument("--auth-login-url", required=True, help="the LMS's OIDC authorization endpoint")
    register.add_argument("--auth-token-url", required=True, help="the LMS's OAuth2 token endpoint (grades, rosters)")
    register.add_argument("--keyset-url", required=True, help="the LMS's public keys (JWKS URL)")
    register.add_argument(
        "--deployment-id", action="append", required=True, help="a deployment id allowed to launch (repeatable)"
    )
    register.add_argument("--audience", default="", help="the token endpoint's audience, if not its URL")
    register.add_argument("--title", default="", help="a name for the LMS in the instructor's list")
    register.set_defaults(handler=_cmd_lti_register)

    deployment = lti_commands.add_parser("add-deployment", help="allow launches from one more deployment of an LMS")
    deployment.add_argument("registration", type=int, help="the registration's number (see 'autograder lti list')")
    deployment.add_argument("deployment_id", help="the deployment id the LMS shows")
    deployment.set_defaults(handler=_cmd_lti_add_deployment)

    listing = lti_commands.add_parser("list", help="list the registered LMSs and the tool's URLs")
    listing.set_defaults(handler=_cmd_lti_list)

    key_commands = lti_commands.add_parser("keys", help="the tool's signing keys").add_subparsers(metavar="ACTION")
    rotate = key_commands.add_parser(
        "rotate", help="sign with a new key from now on (the old one stays published for a week)"
    )
    rotate.set_defaults(handler=_cmd_lti_rotate)


def _prepare_database(settings: Settings) -> None:
    """Migrate and sync content, printing what changed; a content error is a usage error."""
    from grader.content import ContentError, sync_content
    from grader.db import get_engine, migrate, session_scope

    engine = get_engine(settings)
    migrate(engine)
    try:
        with session_scope(engine) as session:
            summary = sync_content(session, settings.exercises_dir, settings.quizzes_dir)
    except ContentError as exc:
        raise UsageError(str(exc)) from exc
    print(f"content: {summary}", file=sys.stderr)


SHUTDOWN_GRACE_SECONDS = 5
"""How long a stopping web process lets requests in flight finish before it cuts them."""


def uvicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """How ``serve`` runs uvicorn: where it listens, and how many connections it serves at once.

    Past ``max_connections`` uvicorn answers 503 at once instead of letting connections pile up;
    the streams' own budget (``max_streams``) is below it, so they are refused first. On shutdown,
    requests get ``SHUTDOWN_GRACE_SECONDS`` to finish; open event streams are then cut (browsers
    reconnect by themselves) instead of holding the stop for minutes.
    """
    return {
        "host": host,
        "port": port,
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": SHUTDOWN_GRACE_SECONDS,
    }


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from grader import health
    from grader.config import get_settings
    from grader.db import get_engine, session_scope
    from grader.jobs import start_consumer
    from grader.logs import configure_logging
    from grader.services import users
    from grader.web.app import create_app

    settings = get_settings()
    configure_logging(format=settings.log_format, level=settings.log_level)
    host, port = args.host or settings.host, args.port or settings.port
    # The application builds its URLs from the settings: give it the address really served.
    settings = settings.model_copy(update={"host": host, "port": port})
    if settings.embedded_worker:
        refusal = _slots_refusal(settings, threads=settings.worker_threads)
        if refusal is not None:
            return refusal
    if settings.embedded_worker and not args.skip_selftest:
        refusal = _confinement_refusal(settings)
        if refusal is not None:
            return refusal
        if settings.unsafe_no_sandbox:
            health.record_selftest("skipped", "GRADER_UNSAFE_NO_SANDBOX is set")
        else:
            health.selftest_passed()
    elif settings.embedded_worker:
        health.record_selftest("skipped", "--skip-selftest")
    _prepare_database(settings)
    with session_scope(get_engine(settings)) as session:
        first = users.ensure_first_instructor(session=session, settings=settings)
        if first is not None:
            print(f"created the first instructor: {first.user.email}", file=sys.stderr)
            if first.password is not None:
                print(f"  sign in at {settings.effective_public_url}/ with password: {first.password}", file=sys.stderr)
                print("  (set GRADER_FIRST_INSTRUCTOR_PASSWORD to choose it yourself)", file=sys.stderr)
    consumer = start_consumer(settings, embedded=True) if settings.embedded_worker else None
    if consumer is not None:
        print(f"grading worker: {settings.worker_threads} thread(s) in this process", file=sys.stderr)
    # With JSON logs, uvicorn's own loggers go through ours instead of its text format.
    log_config = None if settings.log_format == "json" else uvicorn.config.LOGGING_CONFIG
    # uvicorn stops serving on SIGTERM, then raises the signal again once it is done;
    # with the default action that would end the process before the worker below
    # finishes or hands back its gradings and the sandbox pool is torn down.
    previous = signal.signal(signal.SIGTERM, _stop_requested)
    try:
        uvicorn.run(create_app(settings), **uvicorn_options(settings, host=host, port=port), log_config=log_config)
    except StopRequested:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if consumer is not None:
            consumer.stop(graceful=True)
    return EXIT_OK


class StopRequested(Exception):
    """SIGTERM reached ``autograder serve`` after the server stopped: finish the rest, then exit 0."""


def _stop_requested(_signum: int, _frame: object) -> None:
    raise StopRequested


def _slots_refusal(settings: Settings, *, threads: int) -> int | None:
    """An exit status when this process could hold more sandboxes than the machine has slots for, else None.

    Each grading thread and each sandbox the pool starts ahead holds a slot: with fewer slots,
    gradings wait for one to come free (2 slots, 2 threads and a pool of 2 waited 120 s).
    """
    if settings.unsafe_no_sandbox:
        return None
    needed = threads + settings.sandbox_pool_size
    if settings.sandbox_slots >= needed:
        return None
    print(
        f"autograder: refusing to grade: GRADER_SANDBOX_SLOTS is {settings.sandbox_slots}, but this process can hold "
        f"{needed} sandboxes at once ({threads} worker thread(s) + a pool of {settings.sandbox_pool_size}), "
        "so gradings would stall waiting for a free slot. Raise GRADER_SANDBOX_SLOTS to at least "
        f"{needed}, or lower GRADER_WORKER_THREADS or GRADER_SANDBOX_POOL_SIZE.",
        file=sys.stderr,
    )
    return EXIT_USAGE


def _confinement_refusal(settings: Settings) -> int | None:
    """Run the sandbox self-test; an exit status if grading must not start, else None."""
    from grader.grading.sandbox import SandboxUnavailable
    from grader.grading.selftest import run_selftest

    if settings.unsafe_no_sandbox:
        print(
            "autograder: WARNING: GRADER_UNSAFE_NO_SANDBOX is set: submissions run WITHOUT a sandbox", file=sys.stderr
        )
        return None
    try:
        results = run_selftest(settings.sandbox_config(), template=_uses_template(settings))
    except SandboxUnavailable as exc:
        print(f"autograder: refusing to grade: the sandbox cannot be set up here: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    escaped = [result for result in results if not result.contained]
    for result in escaped:
        print(f"autograder: sandbox self-test FAILED: {result.name}: {result.detail}", file=sys.stderr)
    if escaped:
        print("autograder: refusing to grade until the sandbox contains every self-test program", file=sys.stderr)
        return EXIT_FAILED
    print(f"sandbox self-test: {len(results)} hostile programs contained", file=sys.stderr)
    return None


def _cmd_worker(args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.jobs import start_consumer
    from grader.logs import configure_logging

    settings = get_settings()
    configure_logging(format=settings.log_format, level=settings.log_level)
    refusal = _slots_refusal(settings, threads=args.threads or settings.worker_threads)
    if refusal is not None:
        return refusal
    if not args.skip_selftest:
        refusal = _confinement_refusal(settings)
        if refusal is not None:
            return refusal
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port, addr=settings.host)
        print(f"metrics: http://{settings.host}:{settings.worker_metrics_port}/metrics", file=sys.stderr)
    consumer = start_consumer(settings, workers=args.threads)
    # SIGTERM: gradings in progress get worker_shutdown_seconds to finish, the rest are handed back.
    consumer.run()
    return EXIT_OK


def _cmd_migrate(_args: argparse.Namespace) -> int:
    from grader.db import get_engine, migrate

    migrate(get_engine())
    print("database schema is up to date")
    return EXIT_OK


def _cmd_sync_content(_args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.content import ContentError, sync_content
    from grader.db import session_scope

    settings = get_settings()
    try:
        with session_scope() as session:
            summary = sync_content(session, settings.exercises_dir, settings.quizzes_dir)
    except ContentError as exc:
        raise UsageError(str(exc)) from exc
    print(summary)
    return EXIT_OK


def _cmd_create_user(args: argparse.Namespace) -> int:
    from grader.db import session_scope
    from grader.services import users
    from grader.services.errors import BadLines, InvalidInput

    try:
        with session_scope() as session:
            if args.csv is not None:
                try:
                    text = args.csv.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise UsageError(f"{args.csv}: cannot read the file ({exc})") from exc
                created = users.import_csv(session=session, text=text)
                for item in created:
                    shown = f"  password: {item.password}" if item.password else ""
                    print(f"{item.user.email}  ({item.user.role}){shown}")
                print(f"{len(created)} account(s) created", file=sys.stderr)
                return EXIT_OK
            if not args.email or not args.name:
                raise UsageError("give --email and --name, or --csv FILE")
            password = args.password or users.generate_password()
            user = users.create(
                session=session,
                data={"email": args.email, "display_name": args.name, "role": args.role, "password": password},
            )
            shown = "" if args.password else f"  password: {password}"
            print(f"{user.email}  ({user.role}){shown}")
    except BadLines as exc:
        raise UsageError("\n".join([exc.message, *exc.problems])) from exc
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc
    return EXIT_OK


def _cmd_course_create(args: argparse.Namespace) -> int:
    from grader.db import session_scope
    from grader.services import courses, users
    from grader.services.errors import InvalidInput, PermissionDenied

    with session_scope() as session:
        instructor = users.get_by_email(session=session, email=args.instructor)
        if instructor is None:
            raise UsageError(f"no account uses the e-mail {args.instructor!r}; create it first (create-user)")
        try:
            course = courses.create(session=session, title=args.title, created_by=instructor)
        except (InvalidInput, PermissionDenied) as exc:
            raise UsageError(exc.message) from exc
        print(f"course {course.id}: {course.title}  join code: {course.join_code}  instructor: {instructor.email}")
    return EXIT_OK


def _cmd_course_list(_args: argparse.Namespace) -> int:
    from grader.db import session_scope
    from grader.services import courses

    with session_scope() as session:
        rows = courses.overview(session=session)
        for course, counts in rows:
            code = courses.join_code_of(course) or "(none: no self sign-up)"
            people = ", ".join(f"{number} {role}" for role, number in counts.items()) or "no members"
            print(f"{course.id}\t{course.title}\tjoin code: {code}\t{people}")
        if not rows:
            print("no courses", file=sys.stderr)
    return EXIT_OK


def _cmd_lti_register(args: argparse.Namespace) -> int:
    from grader.db import session_scope
    from grader.services.errors import InvalidInput
    from grader.services.lti import platforms

    try:
        with session_scope() as session:
            platform = platforms.register(
                session=session,
                issuer=args.issuer,
                client_id=args.client_id,
                auth_login_url=args.auth_login_url,
                auth_token_url=args.auth_token_url,
                keyset_url=args.keyset_url,
                deployment_ids=args.deployment_id,
                auth_audience=args.audience,
                title=args.title,
            )
            print(f"registered {platform.issuer} (client id {platform.client_id}) as registration {platform.id}")
    except InvalidInput as exc:
        raise UsageError(exc.message) from exc
    _print_tool_urls()
    return EXIT_OK


def _print_tool_urls() -> None:
    from grader.config import get_settings
    from grader.services.lti import tool_urls

    for name, url in tool_urls(get_settings().effective_public_url).items():
        print(f"{name}: {url}")


def _cmd_lti_add_deployment(args: argparse.Namespace) -> int:
    from grader.db import session_scope
    from grader.services.errors import NotFound
    from grader.services.lti import platforms

    try:
        with session_scope() as session:
            platforms.add_deployment(session=session, platform_id=args.registration, deployment_id=args.deployment_id)
    except NotFound as exc:
        raise UsageError(f"{exc.message} ('autograder lti list' shows the registrations)") from exc
    print(f"deployment {args.deployment_id} may launch through registration {args.registration}")
    return EXIT_OK


def _cmd_lti_list(_args: argparse.Namespace) -> int:
    from grader.db import session_scope
    from grader.services.lti import platforms

    with session_scope() as session:
        for platform, deployments in platforms.list_all(session=session):
            print(
                f"{platform.id}  {platform.issuer}  client id {platform.client_id}  deployments {', '.join(deployments)}"
            )
    _print_tool_urls()
    return EXIT_OK


def _cmd_lti_rotate(_args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.db import session_scope
    from grader.services.lti import keys

    with session_scope() as session:
        key = keys.rotate(session=session, secret=get_settings().secret_key)
        print(
            f"signing with key {key.kid} from now on; the previous key stays published for {keys.RETIRED_KEY_PUBLISHED_FOR.days} days"
        )
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace) -> int:
    from grader import backup
    from grader.config import get_settings

    try:
        summary = backup.backup(get_settings(), args.path)
    except (backup.BackupError, OSError) as exc:
        print(f"autograder: backup failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    submissions = summary.rows.get("submissions", 0)
    users = summary.rows.get("users", 0)
    print(f"backed up {', '.join(summary.files)} into {summary.path} ({users} accounts, {submissions} submissions)")
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace) -> int:
    from grader import backup
    from grader.config import get_settings

    settings = get_settings()
    try:
        summary = backup.restore(settings, args.path)
    except (backup.BackupError, OSError) as exc:
        print(f"autograder: restore failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"restored {', '.join(summary.files)} into {summary.path}; 'autograder serve' migrates and serves it")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
