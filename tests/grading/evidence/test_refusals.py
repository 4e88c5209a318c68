"""FastAPI's 422 refusals tied to the parameter declaration that caused them (sources never run)."""

from __future__ import annotations

import ast
import json

from grader.grading.evidence import build_source_model, explain_refusal, validation_issues

HEAD = "from typing import Annotated\nfrom fastapi import Body, FastAPI, Form\nfrom pydantic import BaseModel\napp = FastAPI()\n"


def _refusal(*items: dict) -> str:
    return json.dumps({"detail": list(items)})


MISSING_MSG = _refusal({"type": "missing", "loc": ["body", "msg"], "msg": "Field required", "input": None})


def explain(source: str, body: str):
    return explain_refusal(validation_issues(body), build_source_model(source), path="/message", method="POST")


def patched(source: str, found) -> str:
    assert found.fix_patch is not None and found.fix_patch.after != found.fix_patch.before
    result = found.fix_patch.apply(source)
    assert result is not None
    ast.parse(result)
    return result


def test_body_embed_true_is_named_and_removed():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict = Body(embed=True)):\n    return {'received': msg}\n"
    found = explain(source, MISSING_MSG)
    assert found is not None and found.cause == "body_embed" and found.line == 6 and found.raised_by_framework
    assert "embed=True" in found.title + found.fix and '{"msg": {...}}' in found.explanation
    assert "def echo(msg: dict = Body()):\n" in patched(source, found)


def test_body_embed_inside_annotated_with_other_arguments():
    source = (
        HEAD + "@app.post('/message')\ndef echo(msg: Annotated[dict, Body(embed=True, title='m')]):\n    return msg\n"
    )
    found = explain(source, MISSING_MSG)
    assert found is not None and found.cause == "body_embed"
    assert "Body(title='m')" in patched(source, found)


def test_two_body_parameters():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict, extra: dict):\n    return msg\n"
    found = explain(source, MISSING_MSG)
    assert found is not None and found.cause == "several_body_parameters" and found.line == 6
    assert found.fix_patch is None


def test_a_parameter_without_a_type_is_read_from_the_query_string():
    source = HEAD + "@app.post('/message')\ndef echo(msg):\n    return {'received': msg}\n"
    body = _refusal({"type": "missing", "loc": ["query", "msg"], "msg": "Field required", "input": None})
    found = explain(source, body)
    assert found is not None and found.cause == "body_read_from_query" and "query string" in found.explanation
    assert "def echo(msg: dict):\n" in patched(source, found)


def test_a_str_parameter_is_read_from_the_query_string_too():
    source = HEAD + "@app.post('/message')\ndef echo(msg: str, n: int = 1):\n    return {'received': msg}\n"
    body = _refusal({"type": "missing", "loc": ["query", "msg"], "msg": "Field required", "input": None})
    found = explain(source, body)
    assert found is not None and "def echo(msg: dict, n: int = 1):\n" in patched(source, found)


def test_a_form_parameter():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict = Form()):\n    return msg\n"
    found = explain(source, MISSING_MSG)
    assert found is not None and found.cause == "form_not_json" and "def echo(msg: dict):\n" in patched(source, found)


def test_a_list_annotation_refuses_an_object():
    source = HEAD + "@app.post('/message')\ndef echo(msg: list):\n    return msg\n"
    body = _refusal({"type": "list_type", "loc": ["body"], "msg": "Input should be a valid list", "input": {"a": 1}})
    found = explain(source, body)
    assert (
        found is not None and found.cause == "narrow_annotation" and "def echo(msg: dict):\n" in patched(source, found)
    )


def test_a_pydantic_models_required_field_points_at_the_model():
    source = (
        HEAD
        + "class Message(BaseModel):\n    text: str\n@app.post('/message')\ndef echo(msg: Message):\n    return msg\n"
    )
    body = _refusal({"type": "missing", "loc": ["body", "text"], "msg": "Field required", "input": {"a": 1}})
    found = explain(source, body)
    assert found is not None and found.cause == "model_requires_field" and found.line == 5
    assert "Line 6 (`text: str`) declares `text`" in found.explanation


def test_a_dict_of_strings_refuses_numbers_but_a_list_read_by_position_gets_no_edit():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict[str, str]):\n    return msg\n"
    body = _refusal(
        {"type": "string_type", "loc": ["body", "priority"], "msg": "Input should be a valid string", "input": 3}
    )
    found = explain(source, body)
    assert (
        found is not None and found.cause == "narrow_annotation" and "def echo(msg: dict):\n" in patched(source, found)
    )
    source = HEAD + "@app.post('/message')\ndef echo(msgs: list[dict]):\n    return {'received': msgs[0]}\n"
    body = _refusal({"type": "list_type", "loc": ["body"], "msg": "Input should be a valid list", "input": {"a": 1}})
    found = explain(source, body)
    assert found is not None and found.cause == "narrow_annotation" and found.fix_patch is None


def test_broken_json_or_a_refusal_no_declaration_explains_claims_nothing():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict):\n    return msg\n"
    broken = _refusal({"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error", "input": {}})
    assert explain(source, broken) is None
    assert explain(source, MISSING_MSG) is None  # msg: dict is not embedded: nothing in the code says why


def test_what_is_not_a_fastapi_refusal_has_no_items():
    assert validation_issues('{"detail": "Not Found"}') == ()
    assert validation_issues("not json") == ()
    assert validation_issues(None) == ()
    [issue] = validation_issues(MISSING_MSG)
    assert (issue.type, issue.loc, issue.input_kind) == ("missing", ("body", "msg"), "None")


def test_a_query_parameter_rebuilt_into_a_reply_gets_words_but_no_edit():
    source = HEAD + "@app.post('/message')\ndef echo(text: str):\n    return {'received': {'text': text}}\n"
    body = _refusal({"type": "missing", "loc": ["query", "text"], "msg": "Field required", "input": None})
    found = explain(source, body)
    assert found is not None and found.cause == "body_read_from_query" and found.fix_patch is None


def test_a_query_parameter_beside_the_body_one_is_taken_away_not_made_a_second_body():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict, token):\n    return {'received': msg}\n"
    body = _refusal({"type": "missing", "loc": ["query", "token"], "msg": "Field required", "input": None})
    found = explain(source, body)
    assert found is not None and found.cause == "body_read_from_query" and found.line == 6
    # A second dict would be a second body parameter, each then expected under its own name.
    assert "token: dict" not in found.fix and "Remove the parameter `token`" in found.fix
    assert "def echo(msg: dict):\n" in patched(source, found)


def test_a_query_parameter_beside_the_body_one_that_is_used_is_given_a_default():
    source = HEAD + "@app.post('/message')\ndef echo(msg: dict, user: str):\n    print(user)\n    return msg\n"
    body = _refusal({"type": "missing", "loc": ["query", "user"], "msg": "Field required", "input": None})
    found = explain(source, body)
    assert found is not None and "line 7" in found.fix and '`user: str = ""`' in found.fix
    assert 'def echo(msg: dict, user: str = ""):\n' in patched(source, found)


def test_no_default_is_proposed_where_python_would_refuse_one():
    source = HEAD + "@app.post('/message')\ndef echo(count: int, msg: dict):\n    print(count)\n    return msg\n"
    body = _refusal({"type": "missing", "loc": ["query", "count"], "msg": "Field required", "input": None})
    found = explain(source, body)
    assert found is not None and found.fix_patch is None and "default" not in found.fix
    assert found.fix.startswith("Remove the parameter `count` and what line 7 does with it")
