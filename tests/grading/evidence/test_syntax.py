"""The plain edit after which Python can read a file it refused (files parsed, never run)."""

from __future__ import annotations

import ast

import pytest

from grader.grading.evidence import build_source_model, related_line, syntax_fix

APP = "from fastapi import FastAPI\napp = FastAPI()\n"


@pytest.mark.parametrize(
    ("source", "line", "after"),
    [
        (APP + "@app.post('/message')\ndef echo(msg: dict)\n    return msg\n", 4, "def echo(msg: dict):"),
        (
            APP + "@app.post('/message')\ndef echo(msg: dict)  # echo\n    return msg\n",
            4,
            "def echo(msg: dict):  # echo",
        ),
        (APP + "x = {'received': 1\n", 3, "x = {'received': 1}"),
        (APP + "x = 'abc\n", 3, "x = 'abc'"),
        (APP + "x = \u201chello\u201d\n", 3, 'x = "hello"'),
        (APP + "print 'hello'\n", 3, "print('hello')"),
        (APP + "x = 1\nif x = 1:\n    pass\n", 4, "if x == 1:"),
        (APP + "def echo(msg):\n        print(msg)\n\treturn msg\n", 5, "        return msg"),
        (
            APP + "@app.post('/message')\ndef echo(msg: dict):\nreply = {'received': msg}\nreturn reply\n",
            5,
            "    reply = {'received': msg}\n    return reply",
        ),
    ],
)
def test_the_plain_edit_for_each_kind_of_mistake(source, line, after):
    model = build_source_model(source)
    patch = syntax_fix(model)
    assert patch is not None and (patch.line, patch.after) == (line, after)
    ast.parse(patch.apply(source))


def test_pasted_terminal_lines_are_deleted_and_prompts_dropped():
    source = "!pip install fastapi\n$ uvicorn main:app\n" + APP
    patch = syntax_fix(build_source_model(source))
    assert patch is not None and (patch.line, patch.after) == (1, "")
    assert patch.apply(source) == APP
    source = ">>> from fastapi import FastAPI\n>>> app = FastAPI()\n"
    patch = syntax_fix(build_source_model(source))
    assert patch is not None and patch.apply(source) == APP


def test_no_edit_when_terminal_lines_are_scattered_or_the_edit_does_not_make_it_parse():
    assert syntax_fix(build_source_model("!pip install fastapi\n" + APP + "pip install uvicorn\n")) is None
    # The colon is missing, and the next line is broken too: adding the colon is not enough.
    assert syntax_fix(build_source_model(APP + "def echo(msg)\n    return (\n")) is None
    assert syntax_fix(build_source_model(APP)) is None


def test_the_other_line_pythons_message_names():
    model = build_source_model("def echo(msg):\nreturn msg\n")
    assert model.syntax_error is not None and related_line(model.syntax_error) == 1
