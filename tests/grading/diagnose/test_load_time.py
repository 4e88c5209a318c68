"""Load time: syntax and import errors told by what the line is (no sandbox)."""

from __future__ import annotations

from grader.grading.diagnose import diagnose
from grader.grading.report import FixPatch, GradingError

from .support import program, report_of


def load_error(source: str, kind: str, **facts):
    return diagnose(report_of(error=GradingError(kind, "stopped")), source, facts=facts)[0]


def test_a_terminal_line_is_not_guessed_to_miss_a_colon():
    source = program(
        '@app.post("/message")', "def echo(msg: dict):", '    return {"received": msg}', "pip install fastapi"
    )
    first = load_error(source, "syntax", cause="syntax", line=9, detail="invalid syntax")
    assert first.cause == "shell_line" and first.line == 9
    assert "colon" not in first.fix and "terminal" in first.title
    assert first.fix_patch == FixPatch(9, "pip install fastapi", "")


def test_a_notebook_line_is_a_notebook_line():
    source = "!pip install fastapi\n" + program(
        '@app.post("/message")', "def echo(msg: dict):", '    return {"received": msg}'
    )
    first = load_error(source, "syntax", cause="syntax", line=1, detail="invalid syntax")
    assert first.cause == "notebook_line" and first.line == 1


def test_a_missing_colon_gets_its_colon():
    source = program('@app.post("/message")', "def echo(msg: dict)", '    return {"received": msg}')
    first = load_error(source, "syntax", cause="syntax", line=7, detail="expected ':'")
    assert first.cause == "syntax" and first.fix_patch == FixPatch(7, "def echo(msg: dict)", "def echo(msg: dict):")


def test_a_tab_among_spaces():
    source = program('@app.post("/message")', "def echo(msg: dict):", "    x = 1", '\treturn {"received": msg}')
    first = load_error(source, "syntax", cause="syntax", line=9, detail="inconsistent use of tabs")
    assert first.cause == "indentation" and first.line == 9 and "tab" in first.explanation


def test_a_local_module_that_was_not_uploaded():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": msg}',
        imports="from fastapi import FastAPI\nimport utils",
    )
    first = load_error(source, "import", cause="missing_module", module="utils", line=2)
    assert first.cause == "local_module" and first.line == 2 and "one file" in first.title


def test_a_module_written_with_capitals():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": msg}',
        imports="from FastAPI import FastAPI",
    )
    first = load_error(source, "import", cause="missing_module", module="FastAPI", line=1)
    assert first.cause == "misspelt_name"
    assert first.fix_patch == FixPatch(1, "from FastAPI import FastAPI", "from fastapi import FastAPI")


def test_a_name_never_imported_joins_the_files_own_import():
    source = program('@app.post("/message")', "def echo(msg: dict = Body()):", '    return {"received": msg}')
    first = load_error(
        source, "import", cause="exception", exception="NameError", detail="name 'Body' is not defined", line=7
    )
    assert first.cause == "missing_import"
    assert first.fix_patch == FixPatch(1, "from fastapi import FastAPI", "from fastapi import FastAPI, Body")


def test_await_in_a_plain_def_points_at_the_def_and_writes_async_def():
    source = program(
        "async def log(msg):",
        "    print(msg)",
        "",
        "",
        '@app.post("/message")',
        "def echo(msg: dict):",
        "    await log(msg)",
        '    return {"received": msg}',
    )
    first = load_error(source, "syntax", cause="syntax", line=12, detail="'await' outside async function")
    assert first.cause == "syntax" and first.line == 11
    assert "`async def`" in first.fix and "line 11" in first.fix and "line 12" in first.explanation
    assert first.fix_patch == FixPatch(11, "def echo(msg: dict):", "async def echo(msg: dict):")


def test_a_message_about_await_is_not_believed_without_an_await_at_its_line():
    source = program('@app.post("/message")', "def echo(msg: dict):", '    return {"received": msg}')
    first = load_error(source, "syntax", cause="syntax", line=7, detail="'await' outside async function")
    assert first.fix_patch is None and "async def" not in first.fix


def test_a_function_named_like_the_app_replaces_it_and_is_renamed():
    source = program('@app.post("/message")', "async def app(msg: dict):", '    return {"received": msg}')
    first = load_error(source, "not_asgi", what="function")
    assert first.cause == "not_asgi" and first.line == 7 and "replaces the application" in first.title
    assert "line 3" in first.explanation and "`app = FastAPI()`" not in first.fix
    assert first.fix_patch == FixPatch(7, "async def app(msg: dict):", "async def receive_message(msg: dict):")
