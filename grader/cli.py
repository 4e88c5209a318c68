"""The ``autograder`` command line.

Exit status: 0 when a report was produced (whatever the score), 2 for a usage
error, 3 when the sandbox cannot be set up on this machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

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
    try:
        return args.handler(args)
    except UsageError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(metavar="COMMAND")
    _add_engine_commands(commands)
    _add_service_commands(commands)
    return parser


# --- grading engine -------------------------------------------------------------


def _add_engine_commands(commands: argparse._SubParsersAction) -> None:
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
    build = runtime_commands.add_parser("build", help="build the learner runtime if missing")
    build.set_defaults(handler=_cmd_runtime_build)

    selftest = commands.add_parser("selftest", help="check that the sandbox contains hostile programs")
    selftest.add_argument("--json", action="store_true", help="print the results as JSON")
    selftest.set_defaults(handler=_cmd_selftest)


def _load_exercises():
    from grader.config import get_settings
    from grader.grading.spec import SpecError, load_exercises

    try:
        return load_exercises(get_settings().exercises_dir)
    except SpecError as exc:
        raise UsageError(str(exc)) from exc


def _pick_exercise(exercises: dict, slug: str | None):
    if slug is not None:
        if slug not in exercises:
            raise UsageError(f"unknown exercise {slug!r}; known: {', '.join(exercises) or 'none'}")
        return exercises[slug]
    if len(exercises) == 1:
        return next(iter(exercises.values()))
    if "message-echo" in exercises:
        return exercises["message-echo"]
    raise UsageError(f"several exercises exist; pick one with --exercise ({', '.join(exercises)})")


def _cmd_grade(args: argparse.Namespace) -> int:
    from grader.config import get_settings
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
    except SandboxUnavailable as exc:
        print(f"autograder: the sandbox cannot be set up here: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    if args.json:
        json.dump(report.to_dict(), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(report))
    return EXIT_OK


def _cmd_exercises(args: argparse.Namespace) -> int:
    for exercise in _load_exercises().values():
        print(f"{exercise.slug}  ({exercise.max_score:g} points)  {exercise.title}")
        for case in exercise.cases:
            count = f" ×{case.random}" if case.random else ""
            print(f"  - {case.name}{count}: {case.description} [{case.points:g}]")
    return EXIT_OK


def _cmd_runtime_build(args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.grading import runtime

    settings = get_settings()
    try:
        built = runtime.build(settings.runtime_requirements, settings.learner_runtime_dir)
    except runtime.RuntimeBuildError as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    print(f"learner runtime: {built.root}")
    return EXIT_OK


def _cmd_selftest(args: argparse.Namespace) -> int:
    from grader.config import get_settings
    from grader.grading.sandbox import SandboxUnavailable
    from grader.grading.selftest import run_selftest

    try:
        results = run_selftest(get_settings().sandbox_config())
    except SandboxUnavailable as exc:
        print(f"autograder: the sandbox cannot be set up here: {exc}", file=sys.stderr)
        return EXIT_NO_SANDBOX
    if args.json:
        json.dump([result.to_dict() for result in results], sys.stdout)
        sys.stdout.write("\n")
    else:
        for result in results:
            print(f"{'ok  ' if result.contained else 'FAIL'} {result.name}: {result.detail}")
    return EXIT_OK if all(result.contained for result in results) else EXIT_FAILED


# --- web service ----------------------------------------------------------------


def _add_service_commands(commands: argparse._SubParsersAction) -> None:
    """Operator commands of the web service (serve, worker, migrate, ...)."""


if __name__ == "__main__":
    sys.exit(main())
