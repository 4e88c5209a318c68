"""Routing and the file's structure: why nothing answered, from the code (no sandbox)."""

from __future__ import annotations

from grader.grading.report import FixPatch

from .support import HELLO, case, first_diagnosis, program

NOT_FOUND = {"detail": "Not Found"}


def not_found() -> object:
    return case("hello", HELLO, NOT_FOUND, status=404)


def test_a_get_route_gets_post():
    source = program('@app.get("/message")', "def echo(msg: dict):", '    return {"received": msg}')
    allowed = case("hello", HELLO, {"detail": "Method Not Allowed"}, status=405)
    first, _ = first_diagnosis(source, allowed)
    assert first.cause == "wrong_method" and first.fix_patch == FixPatch(
        6, '@app.get("/message")', '@app.post("/message")'
    )


def test_an_app_made_again_after_its_routes():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": msg}',
        "",
        "",
        "app = FastAPI(debug=True)",
    )
    first, _ = first_diagnosis(source, not_found())
    assert first.cause == "app_rebound" and first.line == 11 and "debug=True" in first.fix


def test_a_decorator_without_brackets():
    source = program("@app.post", "def echo(msg: dict):", '    return {"received": msg}')
    first, _ = first_diagnosis(source, not_found())
    assert first.cause == "decorator_not_called"
    assert first.fix_patch == FixPatch(6, "@app.post", '@app.post("/message")')


def test_a_router_never_included():
    source = program(
        "router = APIRouter()",
        "",
        "",
        '@router.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": msg}',
        imports="from fastapi import APIRouter, FastAPI",
    )
    first, _ = first_diagnosis(source, not_found())
    assert first.cause == "router_not_included" and first.line == 6
    assert first.fix_patch is not None and first.fix_patch.after.endswith("app.include_router(router)")


def test_two_routes_for_one_address_are_one_card():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"message": msg}',
        "",
        "",
        '@app.post("/message")',
        "def echo_again(msg: dict):",
        '    return {"received": msg}',
    )
    first, diagnoses = first_diagnosis(source, case("hello", HELLO, {"message": HELLO}))
    assert len(diagnoses) == 1 and first.cause == "duplicate_route" and first.line == 6


def test_a_second_endpoint_for_a_method_to_refuse_is_named_at_its_route():
    source = program(
        '@app.post("/message")',
        "def echo(msg: dict):",
        '    return {"received": msg}',
        "",
        '@app.get("/message")',
        "def usage():",
        '    return {"info": "POST here"}',
    )
    posted = case("hello", HELLO, {"received": HELLO}, passed=True)
    got = case("get", None, {"info": "POST here"}, method="GET", expected_status=405)
    first, _ = first_diagnosis(source, posted, got)
    assert first.cause == "method_allowed" and first.line == 10
    assert first.fix.startswith("Remove the endpoint `usage` (lines 10 to 12)")
    assert '`@app.post("/message")`' not in first.fix
