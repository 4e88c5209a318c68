"""The mistake corpus holds together: headers, causes, corrected versions, and fixes that work.

What these tests assert holds for every file of ``submissions/mistakes/`` and of
``submissions/heldout/`` alike:

* its header block is well formed and names a cause that CAUSES.md defines;
* its corrected version (``corrected/<name>.py``) scores full marks, graded in the sandbox
  like any submission; only a file that cannot be graded case by case and that no edit of
  its own can mend (it has no endpoint) goes without one, and says why (``# uncorrectable:``);
* no diagnosis proposes, as its fix, what the learner's line already says;
* a diagnosis that carries its fix as an edit (``fix_patch``) is right: the patched file,
  graded with the same seed, passes the cases the diagnosis explains.

Whether the first diagnosis has the right cause, at the right line, is asserted for
``mistakes/`` by test_diagnoses.py, and never for ``heldout/``: those files are how the
diagnoses are measured on mistakes they were not written from (benchmarks/heldout_diagnoses.py).
"""

from __future__ import annotations

import difflib

import pytest

from grader.grading.report import LEARNER_ERROR_KINDS, Diagnosis, FixPatch, Report

from .corpus import (
    CAUSES_FILE,
    HEADER_KEYS,
    SEED,
    CorpusFile,
    Graded,
    all_corpus_files,
    cause_codes,
    corpus_files,
    expected_line,
    grade_all,
    repeated_code,
)
from .support import SUBMISSIONS

FILES = all_corpus_files()
HELD_OUT = 42
# A corrected version mends its mistake as a tutor would: a few lines, never a rewrite.
SMALL_EDIT_LINES = 5
CORRECTED = [file for file in FILES if file.corrected_path.exists()]


def _ids(files: list[CorpusFile]) -> list[str]:
    return [f"{file.group}/{file.name}" for file in files]


# --- the files themselves (no sandbox) ----------------------------------------------------


def test_the_corpus_is_large_enough_and_forty_two_are_held_out():
    assert len(corpus_files("heldout")) == HELD_OUT
    assert len(FILES) >= 150
    names = [file.name for file in FILES]
    assert len(names) == len(set(names)), "a held-out mistake has the name of another mistake"


def test_every_cause_code_is_defined_once():
    text = CAUSES_FILE.read_text(encoding="utf-8")
    listed = [line.split("`")[1] for line in text.splitlines() if line.startswith("- `")]
    assert len(listed) == len(set(listed)), "a cause code is listed twice"
    assert set(listed) == set(cause_codes()), "a line of CAUSES.md is not `code` — meaning"


@pytest.mark.parametrize("file", FILES, ids=_ids(FILES))
def test_header_is_well_formed(file: CorpusFile):
    block = file.header_block()
    assert block and block[0].lstrip("# ").split(":")[0] not in HEADER_KEYS, "the first line says what the learner did"
    headers = file.headers()
    for key in ("cause", "words", "at"):
        assert key in headers, f"no '# {key}:' line"
    for key, values in headers.items():
        assert len(values) == 1, f"'# {key}:' is given {len(values)} times"
        assert values[0], f"'# {key}:' is empty"
    code = file.source.splitlines()[len(block) :]
    strays = [line for line in code if line.startswith("#") and line.lstrip("# ").split(":")[0] in HEADER_KEYS]
    assert not strays, f"header lines after the code began: {strays}"

    assert file.header("cause") in cause_codes(), "the cause is not defined in mistakes/CAUSES.md"
    assert all(phrase.strip() == phrase for phrase in file.phrases("words")), "a phrase has stray spaces"
    if file.header("at") != "none":
        expected_line(file.source, file.header("at") or "")
    if file.header("error"):
        assert file.header("error") in LEARNER_ERROR_KINDS
    if file.header("limits"):
        assert file.header("limits") == "quick"
    if file.header("diagnoses"):
        assert int(file.header("diagnoses") or "") >= 1
    if file.group == "heldout":
        assert not file.known_miss, "held-out files are measured, never marked"


@pytest.mark.parametrize("file", FILES, ids=_ids(FILES))
def test_every_mistake_has_its_corrected_version(file: CorpusFile):
    reason = file.header("uncorrectable")
    if reason:
        assert file.header("error"), "only a file that cannot be graded case by case may go uncorrected"
        assert not file.corrected_path.exists(), "an uncorrectable file has a corrected version"
        return
    assert file.corrected_path.exists(), f"no {file.corrected_path.relative_to(file.path.parent.parent)}"
    corrected = file.corrected_path.read_text(encoding="utf-8")
    assert corrected != file.source
    assert not CorpusFile(file.corrected_path, file.group, corrected).headers(), "a corrected version has no headers"
    code = file.source.splitlines()[len(file.header_block()) :]
    edit = difflib.SequenceMatcher(a=code, b=corrected.splitlines()).get_opcodes()
    changed = sum(
        max(end - start, new_end - new_start) for tag, start, end, new_start, new_end in edit if tag != "equal"
    )
    assert 0 < changed <= SMALL_EDIT_LINES, f"the correction changes {changed} lines: not the smallest edit"
    fix = file.header("fix")
    if fix:
        assert fix in corrected, "the corrected version does not hold the line '# fix:' gives"
        at = file.at_line()
        assert at is None or " ".join(fix.split()) != " ".join(file.source.splitlines()[at - 1].split()), (
            "'# fix:' repeats the learner's own line"
        )


def test_no_corrected_version_is_left_without_its_mistake():
    for group in ("mistakes", "heldout"):
        folder = SUBMISSIONS / group / "corrected"
        mistakes = {file.name for file in corpus_files(group)}
        orphans = sorted(path.stem for path in folder.glob("*.py") if path.stem not in mistakes)
        assert not orphans, f"{group}/corrected has no mistake for {orphans}"


def test_a_repeat_is_code_a_fix_proposes_not_code_it_quotes():
    source = 'from fastapi import FastAPI\napp = FastAPI()\n@app.get("/message")\n'
    quoting = Diagnosis("t", "e", 'Use `@app.post("/message")` instead of `@app.get("/message")`.', line=3)
    assert repeated_code(quoting, source) == []
    removing = Diagnosis("t", "e", "Remove the `exit()`/`sys.exit()` call.", line=3)
    assert repeated_code(removing, "exit()\nsys.exit()\nsys.exit()\n") == []
    proposing = Diagnosis("t", "e", 'Register the endpoint with `@app.get("/message")`.', line=3)
    assert repeated_code(proposing, source) == ['@app.get("/message")']
    moving = Diagnosis("t", "e", "Move `app.include_router(router)` below the routes.", line=1)
    assert repeated_code(moving, "app.include_router(router)\n") == []
    reindenting = Diagnosis("t", "e", "Indent it like the line above: `    return msg`", line=2)
    assert repeated_code(reindenting, "def f(msg):\n\treturn msg\n") == []
    assert repeated_code(reindenting, "def f(msg):\n    return msg\n") == ["    return msg"]
    same_edit = FixPatch(3, '@app.get("/message")', '@app.get("/message")  \n')
    patching = Diagnosis("t", "e", "Change the decorator.", line=3, fix_patch=same_edit)
    assert repeated_code(patching, source) == ['@app.get("/message")  \n']


# --- graded in the sandbox ----------------------------------------------------------------


@pytest.fixture(scope="module")
def corrected_reports(grade, message_echo) -> dict[str, Graded]:
    """Every corrected version graded once, two at a time, by group/name."""
    jobs = [
        (f"{file.group}/{file.name}", message_echo, file.corrected_path.read_text(encoding="utf-8"))
        for file in CORRECTED
    ]
    return grade_all(grade, jobs)


@pytest.fixture(scope="module")
def reports(corpus_reports) -> dict[str, Report]:
    """Every corpus file's report, by group/name."""
    return {
        f"{group}/{name}": graded.report
        for group in ("mistakes", "heldout")
        for name, graded in corpus_reports.group(group).items()
    }


@pytest.fixture(scope="module")
def patched_reports(grade, corpus_reports, reports) -> dict[tuple[str, int], Report | None]:
    """Each diagnosis's fix applied to the learner's file and graded, by (group/name, diagnosis index).

    None when the patch does not apply to the learner's text.
    """
    jobs = []
    unapplied: dict[tuple[str, int], Report | None] = {}
    keys = {}
    for file in FILES:
        key = f"{file.group}/{file.name}"
        for index, diagnosis in enumerate(reports[key].diagnoses):
            if diagnosis.fix_patch is None:
                continue
            patched = diagnosis.fix_patch.apply(file.source)
            if patched is None:
                unapplied[(key, index)] = None
                continue
            job_key = f"{key}#{index}"
            keys[job_key] = (key, index)
            jobs.append((job_key, corpus_reports.spec_for(file), patched))
    graded = grade_all(grade, jobs)
    return unapplied | {keys[job_key]: result.report for job_key, result in graded.items()}


@pytest.mark.sandbox
@pytest.mark.parametrize("file", CORRECTED, ids=_ids(CORRECTED))
def test_corrected_version_scores_full_marks(corrected_reports, file: CorpusFile):
    report = corrected_reports[f"{file.group}/{file.name}"].report
    failed = [case.name for case in report.tests if not case.passed]
    assert report.error is None, report.error
    assert report.status == "passed" and report.score == report.max_score, failed


@pytest.mark.sandbox
@pytest.mark.parametrize("file", FILES, ids=_ids(FILES))
def test_no_fix_repeats_the_learners_line(reports, file: CorpusFile):
    report = reports[f"{file.group}/{file.name}"]
    for diagnosis in report.diagnoses:
        repeated = repeated_code(diagnosis, file.source)
        assert not repeated, (
            f"{diagnosis.title!r} (line {diagnosis.line}) proposes what the line already says: {repeated}"
        )


@pytest.mark.sandbox
@pytest.mark.parametrize("file", FILES, ids=_ids(FILES))
def test_a_fix_given_as_an_edit_makes_its_cases_pass(reports, patched_reports, file: CorpusFile):
    key = f"{file.group}/{file.name}"
    for index, diagnosis in enumerate(reports[key].diagnoses):
        if diagnosis.fix_patch is None:
            continue
        patched = patched_reports[(key, index)]
        assert patched is not None, f"the fix of {diagnosis.title!r} does not apply to the learner's file"
        assert patched.seed == SEED
        if not diagnosis.cases:
            # An error that stopped every case: the fix must let the file be graded case by case.
            assert patched.error is None, f"with the fix of {diagnosis.title!r}: {patched.error}"
            continue
        outcome = {case.name: case.passed for case in patched.tests}
        still_failing = [name for name in diagnosis.cases if not outcome.get(name, False)]
        assert not still_failing, f"with the fix of {diagnosis.title!r}, still failing: {still_failing}"
