"""How right the diagnoses are on the held-out mistakes, which no rule was written from.

Run by hand (not part of the test suite), once the rules are done; never to tune them:

    .venv/bin/python benchmarks/heldout_diagnoses.py [NAME ...]

It grades every file of tests/grading/submissions/heldout/ in the sandbox (as
``autograder grade`` does, with the same seed as the corpus tests) and prints, for
each and in total, whether the first diagnosis

- names the right cause (the file's ``# cause:``),
- points at the right line (the first line holding ``# at:``; ``none``: no line),
- says the expected words (every phrase of ``# words:``),
- shows a fix as an edit (``fix_patch``) and, when it does, whether that fix works:
  the patched file, graded with the same seed, passes every case the diagnosis
  explains (or, for a file that could not be graded at all, can now be graded);
- proposes no code that the learner's line already says.

"right" is the figure the README gives: the right cause, at the right line, and
a fix that works whenever one is shown. The program always exits 0.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.config import get_settings  # noqa: E402
from grader.grading.report import Diagnosis, Report  # noqa: E402
from grader.grading.runner import grade_source  # noqa: E402
from grader.grading.sandbox import SandboxConfig  # noqa: E402
from grader.grading.spec import ExerciseSpec, load_exercises  # noqa: E402
from tests.grading.corpus import SEED, CorpusFile, corpus_files, quick_limits, repeated_code  # noqa: E402


@dataclass(frozen=True)
class Verdict:
    """What the first diagnosis of one held-out file got right."""

    name: str
    cause: bool
    line: bool
    words: bool
    fix_shown: bool
    fix_works: bool | None
    repeats: bool
    got: str

    @property
    def right(self) -> bool:
        """The right cause, at the right line, with a fix that works when one is shown."""
        return self.cause and self.line and self.fix_works is not False


def _fix_works(spec: ExerciseSpec, config: SandboxConfig, file: CorpusFile, diagnosis: Diagnosis) -> bool | None:
    if diagnosis.fix_patch is None:
        return None
    patched = diagnosis.fix_patch.apply(file.source)
    if patched is None:
        return False
    report = grade_source(spec, patched, seed=SEED, config=config)
    if not diagnosis.cases:
        return report.error is None
    outcome = {case.name: case.passed for case in report.tests}
    return all(outcome.get(name, False) for name in diagnosis.cases)


def judge(file: CorpusFile, report: Report, spec: ExerciseSpec, config: SandboxConfig) -> Verdict:
    """Compare a held-out file's first diagnosis with what its header says a right one is."""
    if not report.diagnoses:
        return Verdict(file.name, False, False, False, False, None, False, f"no diagnosis ({report.status})")
    first = report.diagnoses[0]
    said = f"{first.title}\n{first.explanation}\n{first.fix}"
    return Verdict(
        name=file.name,
        cause=first.cause == file.header("cause"),
        line=first.line == file.at_line(),
        words=all(phrase in said for phrase in file.phrases("words")),
        fix_shown=first.fix_patch is not None,
        fix_works=_fix_works(spec, config, file, first),
        repeats=any(repeated_code(diagnosis, file.source) for diagnosis in report.diagnoses),
        got=f"{first.cause} at line {first.line}: {first.title}",
    )


def _mark(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="message-echo")
    parser.add_argument("--verbose", action="store_true", help="also print what each first diagnosis said")
    parser.add_argument("names", nargs="*", help="grade only these held-out files (by name); all when none")
    args = parser.parse_args()

    settings = get_settings()
    spec = load_exercises(settings.exercises_dir)[args.exercise]
    config = settings.sandbox_config()
    files = [file for file in corpus_files("heldout") if not args.names or file.name in args.names]
    verdicts = []
    print(f"{'file':<24} {'cause':>5} {'line':>5} {'words':>5} {'fix':>5} {'works':>5} {'repeat':>6}  right")
    for file in files:
        file_spec = quick_limits(spec) if file.quick else spec
        report = grade_source(file_spec, file.source, seed=SEED, config=config)
        verdict = judge(file, report, file_spec, config)
        verdicts.append(verdict)
        print(
            f"{verdict.name:<24} {_mark(verdict.cause):>5} {_mark(verdict.line):>5} {_mark(verdict.words):>5}"
            f" {_mark(verdict.fix_shown):>5} {_mark(verdict.fix_works):>5} {_mark(verdict.repeats):>6}"
            f"  {_mark(verdict.right)}",
            flush=True,
        )
        if args.verbose or not verdict.right:
            print(f"    expected {file.header('cause')} at line {file.at_line()}; got {verdict.got}", flush=True)

    total = len(verdicts)
    shown = [v for v in verdicts if v.fix_shown]
    print()
    print(f"held-out mistakes:                       {total}")
    print(f"right cause:                             {sum(v.cause for v in verdicts)}/{total}")
    print(f"right cause at the right line:           {sum(v.cause and v.line for v in verdicts)}/{total}")
    print(f"expected words said:                     {sum(v.words for v in verdicts)}/{total}")
    print(f"fix shown as an edit:                    {len(shown)}/{total}")
    print(f"  of which work:                         {sum(bool(v.fix_works) for v in shown)}/{len(shown)}")
    print(f"a fix repeating the learner's line:      {sum(v.repeats for v in verdicts)}/{total}")
    print(f"right (cause, line, working fix if any): {sum(v.right for v in verdicts)}/{total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
