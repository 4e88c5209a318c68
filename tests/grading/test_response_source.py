"""Finding, in a learner's source read as text, where the reply's media type is decided (no sandbox, fast)."""

from __future__ import annotations

import pytest

from grader.grading.response_source import response_site

HEAD = """import json
from fastapi import FastAPI, Response
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.responses import PlainTextResponse as Text

app = FastAPI()
"""


def endpoint(body: str, decorator: str = '@app.post("/message")') -> str:
    return HEAD + f"\n\n{decorator}\nasync def receive_message(msg: dict):\n" + body + "\n"


def line_of(source: str, fragment: str) -> int:
    return next(number for number, line in enumerate(source.splitlines(), start=1) if fragment in line)


@pytest.mark.parametrize(
    ("body", "sent", "how", "class_name", "value"),
    [
        ("    return PlainTextResponse(json.dumps({'received': msg}))", "text/plain", "class", "PlainTextResponse", ""),
        ("    return Text(json.dumps({'received': msg}))", "text/plain", "class", "PlainTextResponse", ""),
        ("    return HTMLResponse(json.dumps(msg))", "text/html", "class", "HTMLResponse", ""),
        ("    return Response(json.dumps(msg))", "", "class", "Response", ""),
        ("    return HTMLResponse(json.dumps(msg), media_type=None)", "text/html", "class", "HTMLResponse", ""),
        (
            '    return Response(json.dumps(msg), media_type="text/html")',
            "text/html",
            "media_type",
            "Response",
            '"text/html"',
        ),
        (
            '    return Response(json.dumps(msg), 200, None, "text/plain")',
            "text/plain",
            "media_type",
            "Response",
            '"text/plain"',
        ),
        (
            '    return JSONResponse(msg, media_type="text/plain")',
            "text/plain",
            "media_type",
            "JSONResponse",
            '"text/plain"',
        ),
        (
            '    return Response(json.dumps(msg), media_type="application/json", headers={"content-type": "text/x-json"})',
            "text/x-json",
            "header",
            "Response",
            '"text/x-json"',
        ),
    ],
)
def test_the_call_that_builds_the_reply_is_found(body, sent, how, class_name, value):
    source = endpoint(body)
    site = response_site(source, "/message", sent)
    assert site is not None
    assert (site.how, site.class_name, site.value, site.media_type) == (how, class_name, value, sent)
    assert site.line == line_of(source, body.strip())


def test_a_media_type_bound_to_a_name_once_is_read():
    source = (
        HEAD + 'KIND = "text/plain"\n' + endpoint("    return Response(json.dumps(msg), media_type=KIND)")[len(HEAD) :]
    )
    site = response_site(source, "/message", "text/plain; charset=utf-8")
    assert site is not None and site.value == "KIND" and site.how == "media_type"


def test_a_learners_response_class_is_followed_through_its_bases():
    source = endpoint("    return Mine(json.dumps(msg))").replace(
        "app = FastAPI()\n",
        'app = FastAPI()\n\nclass Base(PlainTextResponse):\n    pass\n\nclass Mine(Base):\n    media_type: str = "text/json"\n',
    )
    site = response_site(source, "/message", "text/json")
    assert site is not None
    assert (site.class_name, site.class_line, site.value, site.how) == (
        "Mine",
        line_of(source, "class Mine"),
        '"text/json"',
        "class",
    )
    inherited = endpoint("    return Base(json.dumps(msg))").replace(
        "app = FastAPI()\n", "app = FastAPI()\n\nclass Base(PlainTextResponse):\n    pass\n"
    )
    site = response_site(inherited, "/message", "text/plain")
    assert site is not None and site.class_line == line_of(inherited, "class Base") and site.value == ""


def test_the_route_or_the_app_decides_when_the_function_returns_plain_data():
    route = endpoint("    return json.dumps(msg)", '@app.post("/message", response_class=HTMLResponse)')
    site = response_site(route, "/message", "text/html")
    assert site is not None and site.how == "response_class" and site.line == line_of(route, "response_class=")
    whole_app = endpoint("    return json.dumps(msg)").replace(
        "app = FastAPI()", "app = FastAPI(default_response_class=PlainTextResponse)"
    )
    site = response_site(whole_app, "/message", "text/plain")
    assert site is not None and site.how == "default_response_class" and site.value == "PlainTextResponse"


def test_the_endpoint_of_the_cases_path_comes_first():
    source = HEAD + (
        '\n\n@app.get("/other")\nasync def other():\n    return PlainTextResponse("x")\n'
        '\n\n@app.post("/message")\nasync def receive_message(msg: dict):\n'
        "    return reply(msg)\n\n\ndef reply(msg):\n    return PlainTextResponse(json.dumps(msg))\n"
    )
    site = response_site(source, "/message", "text/plain")
    # Not the response of /other, written first: the one the endpoint of /message builds through its helper.
    assert site is not None and site.line == line_of(source, "PlainTextResponse(json.dumps(msg))")
    starlette = (
        "import json\nfrom starlette.applications import Starlette\nfrom starlette.responses import Response\n"
        "from starlette.routing import Route\n\n\nasync def other(request):\n    return Response('x', media_type='text/csv')\n\n\n"
        "async def echo(request):\n    return Response(await request.body(), media_type='text/plain')\n\n\n"
        "app = Starlette(routes=[Route('/other', other), Route('/message', echo, methods=['POST'])])\n"
    )
    site = response_site(starlette, "/message", "text/plain")
    assert site is not None and site.line == line_of(starlette, "media_type='text/plain'")


@pytest.mark.parametrize(
    ("source", "sent"),
    [
        (endpoint('    return Response(json.dumps(msg), media_type="/".join(["text", "plain"]))'), "text/plain"),
        (endpoint("    return FileResponse('x.json')"), "text/plain"),
        (endpoint("    return PlainTextResponse(json.dumps(msg))"), "text/html"),  # the source gives another type
        ("def broken(:\n", "text/plain"),
        (
            "KIND = 'text/plain'\nKIND = 'text/html'\n" + endpoint("    return Response('', media_type=KIND)"),
            "text/plain",
        ),
    ],
    ids=["computed", "unknown-class", "other-type", "syntax-error", "name-bound-twice"],
)
def test_no_site_is_claimed_when_the_source_does_not_show_it(source, sent):
    assert response_site(source, "/message", sent) is None
