"""Exceptions explained from the learner's own code, family by family (sources are strings, never run)."""

from __future__ import annotations

import ast

import pytest

from grader.grading.evidence import (
    Explanation,
    Frame,
    build_source_model,
    explain_exception,
    explain_traceback,
    parse_traceback,
)
from grader.grading.evidence.exceptions import checked
from grader.grading.evidence.tracebacks import ValidationIssue
from grader.grading.report import FixPatch

HEAD = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post('/message')\n"


def explain(source: str, exception: str, message: str, line: int | None, **kwargs) -> Explanation | None:
    model = build_source_model(source)
    frame = Frame("solution.py", line, "echo", model.code(line)) if line else None
    return explain_exception(exception, message, frame, model, **kwargs)


def patched(source: str, found: Explanation) -> str:
    """The source with the explanation's edit made; the edit must change the line and keep the file valid."""
    assert found.fix_patch is not None
    assert found.fix_patch.after.rstrip("\n") != found.fix_patch.before.rstrip("\n")
    result = found.fix_patch.apply(source)
    assert result is not None and result != source
    ast.parse(result)
    return result


# --- TypeError ---------------------------------------------------------------------------------


def test_unhashable_dict_in_a_set_literal_is_a_comma_where_a_colon_goes():
    source = HEAD + "def echo(msg: dict):\n    return {'received', msg}\n"
    found = explain(source, "TypeError", "unhashable type: 'dict'", 8)
    assert found is not None and found.cause == "set_instead_of_dict" and found.line == 8
    assert "comma" in found.title and "set" in found.explanation
    assert found.fix == "Put a colon between each key and its value: `{'received': msg}`."
    assert "    return {'received': msg}\n" in patched(source, found)


def test_unhashable_without_a_set_literal_claims_no_comma():
    source = HEAD + "def echo(msg: dict):\n    seen = set()\n    seen.add(msg)\n    return {'received': msg}\n"
    assert explain(source, "TypeError", "unhashable type: 'dict'", 9) is None


def test_the_message_used_as_a_key():
    source = HEAD + "def echo(msg: dict):\n    return {msg: 'received'}\n"
    found = explain(source, "TypeError", "unhashable type: 'dict'", 8)
    assert found is not None and found.cause == "dict_as_key"
    assert "    return {'received': msg}\n" in patched(source, found)


def test_calling_a_dict():
    source = HEAD + "def echo(msg: dict):\n    text = msg('text')\n    return {'received': msg()}\n"
    first = explain(source, "TypeError", "'dict' object is not callable", 8)
    assert first is not None and first.cause == "called_not_callable" and "`msg` is a dict" in first.title
    assert "    text = msg['text']\n" in patched(source, first)
    second = explain(source, "TypeError", "'dict' object is not callable", 9)
    assert second is not None and "    return {'received': msg}\n" in patched(source, second)


def test_missing_await_on_request_json_in_an_async_endpoint():
    source = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.post('/message')\n"
        "async def echo(request: Request):\n    data = request.json()\n    return {'received': data['text']}\n"
    )
    found = explain(source, "TypeError", "'coroutine' object is not subscriptable", 6)
    assert found is not None and found.cause == "missing_await" and found.line == 5
    assert "    data = await request.json()\n" in patched(source, found)


def test_missing_await_in_a_plain_def_says_both_changes_and_offers_no_one_line_edit():
    source = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.post('/message')\n"
        "def echo(request: Request):\n    data = request.json()\n    return {'received': data.get('x')}\n"
    )
    found = explain(source, "AttributeError", "'coroutine' object has no attribute 'get'", 6)
    assert found is not None and found.cause == "missing_await" and found.fix_patch is None
    assert "async def" in found.fix


def test_a_coroutine_without_a_json_call_to_blame_claims_nothing():
    source = HEAD + "async def echo(msg: dict):\n    return {'received': msg}\n"
    assert explain(source, "TypeError", "'coroutine' object is not subscriptable", 8) is None


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        ("wrap() missing 1 required positional argument: 'value'", "missing_argument"),
        ("wrap() takes 2 positional arguments but 3 were given", "extra_argument"),
    ],
)
def test_argument_counts(message, cause):
    source = HEAD.replace("@app", "def wrap(key, value):\n    return {key: value}\n\n@app") + (
        "def echo(msg: dict):\n    return wrap(msg)\n"
    )
    line = build_source_model(source).find("return wrap")
    found = explain(source, "TypeError", message, line)
    assert found is not None and found.cause == cause and "`wrap()`" in found.title
    assert "defined on line 6" in found.explanation


def test_an_unexpected_keyword_suggests_the_parameter_it_resembles():
    source = (
        "def wrap(key, value):\n    return {key: value}\n\ndef echo(msg):\n    return wrap('received', valeu=msg)\n"
    )
    found = explain(source, "TypeError", "wrap() got an unexpected keyword argument 'valeu'", 5)
    assert found is not None and found.cause == "unexpected_keyword" and "`value=`" in found.fix
    assert "wrap('received', value=msg)" in patched(source, found)


def test_json_loads_on_the_dict_fastapi_already_made():
    source = (
        "import json\n" + HEAD + "def echo(msg: dict):\n    data = json.loads(msg)\n    return {'received': data}\n"
    )
    found = explain(source, "TypeError", "the JSON object must be str, bytes or bytearray, not dict", 9)
    assert found is not None and found.cause == "json_loads_on_dict"
    assert "    data = msg\n" in patched(source, found)


def test_string_indices_and_none_and_mixed_types():
    source = HEAD + "def echo(msg: dict):\n    return {'received': msg['a']['text'] + 1}\n"
    assert explain(source, "TypeError", "string indices must be integers, not 'str'", 8).cause == "string_indexed"
    assert explain(source, "TypeError", "'NoneType' object is not subscriptable", 8).cause == "none_value"
    assert explain(source, "TypeError", 'can only concatenate str (not "int") to str', 8).cause == "mixed_types"


def test_not_serializable_names_the_type():
    source = "import json\n" + HEAD + "def echo(msg: dict):\n    return json.dumps({'received', 'x'})\n"
    found = explain(source, "TypeError", "Object of type set is not JSON serializable", 8)
    assert found is not None and found.cause == "not_serializable" and "set" in found.explanation


# --- UnboundLocalError and NameError --------------------------------------------------------------


def test_count_plus_one_without_global():
    source = HEAD.replace("app = FastAPI()\n", "app = FastAPI()\ncount = 0\n") + (
        "def echo(msg: dict):\n    count += 1\n    return {'received': msg}\n"
    )
    found = explain(
        source, "UnboundLocalError", "cannot access local variable 'count' where it is not associated with a value", 9
    )
    assert found is not None and found.cause == "missing_global" and found.line == 9
    assert "global count" in found.fix and "line 4" in found.explanation
    assert "def echo(msg: dict):\n    global count\n    count += 1\n" in patched(source, found)


def test_global_goes_first_even_when_the_name_is_read_earlier():
    source = (
        "count = 0\n\ndef echo(msg):\n    '''Count.'''\n    print(count)\n    count = count + 1\n    return count\n"
    )
    found = explain(source, "UnboundLocalError", "local variable 'count' referenced before assignment", 5)
    assert found is not None and found.cause == "missing_global"
    assert "    '''Count.'''\n    global count\n    print(count)\n" not in patched(source, found)
    assert "def echo(msg):\n    global count\n    '''Count.'''\n" in patched(source, found)


def test_a_local_only_used_too_early_is_not_a_missing_global():
    source = "def echo(msg):\n    if msg:\n        reply = msg\n    return reply\n"
    found = explain(
        source, "UnboundLocalError", "cannot access local variable 'reply' where it is not associated with a value", 4
    )
    assert found is not None and found.cause == "used_before_assignment" and found.fix_patch is None


def test_a_misspelt_name_gets_the_nearest_real_one():
    source = HEAD + "def echo(msg: dict):\n    return {'received': mgs}\n"
    found = explain(source, "NameError", "name 'mgs' is not defined", 8)
    assert found is not None and found.cause == "name_typo" and "did you mean `msg`?" in found.title
    assert "    return {'received': msg}\n" in patched(source, found)


def test_a_name_far_from_any_other_claims_nothing():
    source = HEAD + "def echo(msg: dict):\n    return {'received': zebra_quux}\n"
    assert explain(source, "NameError", "name 'zebra_quux' is not defined", 8) is None


def test_json_literals_and_missing_imports():
    source = HEAD + "def echo(msg: dict):\n    return {'received': msg, 'ok': true}\n"
    found = explain(source, "NameError", "name 'true' is not defined", 8)
    assert found is not None and found.cause == "json_literal" and "'ok': True}" in patched(source, found)
    source = HEAD + "def echo(msg: dict):\n    return json.loads(json.dumps(msg))\n"
    found = explain(source, "NameError", "name 'json' is not defined", 8)
    assert found is not None and found.cause == "missing_import" and patched(source, found).startswith("import json\n")


def test_a_name_in_a_string_is_left_alone_by_the_edit():
    source = HEAD + "def echo(msg: dict):\n    return {'mgs': mgs}\n"
    found = explain(source, "NameError", "name 'mgs' is not defined", 8)
    assert found is not None and "    return {'mgs': msg}\n" in patched(source, found)


# --- RecursionError, AttributeError ---------------------------------------------------------


def test_a_function_that_calls_itself():
    source = HEAD + "def echo(msg: dict):\n    return echo(msg)\n"
    found = explain(source, "RecursionError", "maximum recursion depth exceeded", 8)
    assert found is not None and found.cause == "endless_recursion" and found.line == 8


def test_recursion_without_a_self_call_in_the_learners_frame_claims_nothing():
    source = HEAD + "def echo(msg: dict):\n    return {'received': msg}\n"
    assert explain(source, "RecursionError", "maximum recursion depth exceeded", 8) is None


def test_app_post_with_a_capital_at_load_time():
    source = (
        "from fastapi import FastAPI\napp = FastAPI()\n@app.Post('/message')\ndef echo(msg: dict):\n    return msg\n"
    )
    found = explain(source, "AttributeError", "'FastAPI' object has no attribute 'Post'", 3)
    assert found is not None and found.cause == "attribute_typo" and "did you mean `.post`?" in found.title
    assert "@app.post('/message')\n" in patched(source, found)


def test_a_dicts_key_read_as_an_attribute():
    source = HEAD + "def echo(msg: dict):\n    return {'received': {'text': msg.text}}\n"
    found = explain(source, "AttributeError", "'dict' object has no attribute 'text'", 8)
    assert found is not None and found.cause == "attribute_on_dict"
    assert """{'text': msg["text"]}""" in patched(source, found)


def test_a_dict_method_misspelt_is_a_typo_not_a_key():
    source = HEAD + "def echo(msg: dict):\n    return {'received': dict(msg.item())}\n"
    found = explain(source, "AttributeError", "'dict' object has no attribute 'item'", 8)
    assert found is not None and found.cause == "attribute_typo" and "`.items`" in found.title
    assert "msg.items()" in patched(source, found)


def test_a_module_attribute_misspelt():
    source = "import json\n" + HEAD + "def echo(msg: dict):\n    return json.dump_s(msg)\n"
    found = explain(source, "AttributeError", "module 'json' has no attribute 'dump_s'", 9)
    assert found is not None and "`.dumps`" in found.title


# --- KeyError, IndexError, json errors --------------------------------------------------------


def test_a_missing_key_names_the_key_and_the_dict():
    source = (
        HEAD
        + "def echo(msg: dict):\n    reply = dict(msg)\n    reply['sender'] = msg['sender']\n    return {'received': msg}\n"
    )
    found = explain(source, "KeyError", "'sender'", 9)
    assert found is not None and found.cause == "missing_key" and '"sender"' in found.title
    assert "the message the grader sent" in found.explanation
    # The key written (the target) stays; the key read becomes a .get.
    assert "    reply['sender'] = msg.get(\"sender\")\n" in patched(source, found)


def test_a_key_error_for_a_key_the_line_does_not_read_claims_nothing():
    source = HEAD + "def echo(msg: dict):\n    return {'received': lookup(msg)}\n"
    assert explain(source, "KeyError", "'sender'", 8) is None


def test_index_out_of_range_and_json_decode():
    source = (
        "import json\n" + HEAD + "def echo(msg: dict):\n    first = list(msg)[0]\n    return json.loads(str(msg))\n"
    )
    assert explain(source, "IndexError", "list index out of range", 9).cause == "empty_sequence"
    found = explain(
        source, "JSONDecodeError", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", 10
    )
    assert found is not None and found.cause == "json_decode" and "    return msg\n" in patched(source, found)


# --- raised by the framework ----------------------------------------------------------------


RESPONSE_MODEL = (
    "from fastapi import FastAPI\n"
    "from pydantic import BaseModel\n"
    "app = FastAPI()\n"
    "class Reply(BaseModel):\n"
    "    received: str\n"
    "@app.post('/message', response_model=Reply)\n"
    "def echo(msg: dict):\n"
    "    return {'received': msg}\n"
)


def test_a_reply_the_response_model_refuses_points_at_the_field_it_declares():
    traceback = parse_traceback(
        "Traceback (most recent call last):\n"
        "  … 17 frames inside uvicorn, fastapi, starlette …\n"
        "fastapi.exceptions.ResponseValidationError: 1 validation errors:\n"
        "  {'type': 'string_type', 'loc': ('response', 'received'), 'msg': 'Input should be a valid string', 'input': {}}\n"
    )
    assert traceback is not None
    found = explain_traceback(traceback, build_source_model(RESPONSE_MODEL), path="/message", method="POST")
    assert found is not None and found.cause == "response_model_refused" and found.raised_by_framework
    assert found.line == 5 and "`Reply`" in found.explanation and "No line of yours was running" in found.explanation
    assert found.fix == "Declare `received` with the type you return: `received: dict` on line 5."


def test_the_response_model_itself_when_no_field_is_named():
    issues = (ValidationIssue("model_type", ("response",), "Input should be a valid dictionary"),)
    found = explain(
        RESPONSE_MODEL, "ResponseValidationError", "1 validation errors:", None, issues=issues, path="/message"
    )
    assert found is not None and found.line == 6


def test_another_framework_error_points_at_the_route_that_set_it_up():
    found = explain(RESPONSE_MODEL, "ValueError", "something FastAPI did not like", None, path="/message")
    assert found is not None and found.cause == "framework_raised" and found.line == 6 and found.raised_by_framework


def test_a_framework_error_with_no_route_to_point_at_claims_nothing():
    assert explain("x = 1\n", "ValueError", "odd", None, path="/message") is None


def test_input_in_an_endpoint():
    source = HEAD + "def echo(msg: dict):\n    name = input('name? ')\n    return {'received': msg}\n"
    assert explain(source, "EOFError", "EOF when reading a line", 8).cause == "input_in_handler"


def test_an_unknown_exception_with_a_learner_line_claims_nothing():
    source = HEAD + "def echo(msg: dict):\n    raise RuntimeError('boom')\n"
    assert explain(source, "RuntimeError", "boom", 8) is None


def test_an_edit_that_repeats_the_line_or_breaks_the_file_is_dropped_and_the_words_kept():
    source = HEAD + "def echo(msg: dict):\n    return {'received': msg}\n"
    model = build_source_model(source)
    line = "    return {'received': msg}"
    same = Explanation("x", "t", "e", "f", 8, FixPatch(8, line, line))
    broken = Explanation("x", "t", "e", "f", 8, FixPatch(8, line, "    return {'received': msg"))
    stale = Explanation("x", "t", "e", "f", 8, FixPatch(8, "    return msg", "    return {'received': msg}"))
    good = Explanation("x", "t", "e", "f", 8, FixPatch(8, line, "    return {'received': dict(msg)}"))
    for dropped in (same, broken, stale):
        kept = checked(dropped, model)
        assert kept is not None and kept.fix_patch is None and (kept.title, kept.fix, kept.line) == ("t", "f", 8)
    assert checked(good, model) == good
    # A name the line does not use is no evidence against the line.
    assert explain(source, "NameError", "name 'Msg' is not defined", 8) is None


def test_an_attribute_of_the_files_own_pydantic_model():
    source = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\napp = FastAPI()\n"
        "class Message(BaseModel):\n    text: str\n"
        "@app.post('/message')\ndef echo(msg: Message):\n    return {'received': msg.txt}\n"
    )
    found = explain(source, "AttributeError", "'Message' object has no attribute 'txt'", 8)
    assert found is not None and found.cause == "attribute_typo" and "`.text`" in found.title
    assert "msg.text}" in patched(source, found)


def test_a_plain_class_as_the_body_is_refused_at_load_at_the_route_fastapi_refused():
    source = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\napp = FastAPI()\n"
        "class Message:\n    text: str\n"
        "@app.post('/message')\ndef echo(msg: Message):\n    return {'received': msg}\n"
    )
    message = (
        "Invalid args for response field! Hint: check that <class 'solution.Message'> is a valid Pydantic field type."
    )
    found = explain(source, "fastapi.exceptions.FastAPIError", message, 6)
    assert found is not None and found.cause == "invalid_field_type" and found.line == 6 and found.raised_by_framework
    assert "class Message(BaseModel):\n" in patched(source, found)


def test_a_dict_read_from_the_query_string():
    source = "from fastapi import FastAPI, Query\napp = FastAPI()\n@app.post('/message')\ndef echo(msg: dict = Query()):\n    return msg\n"
    found = explain(source, "AssertionError", "", 3)
    assert found is not None and found.cause == "complex_parameter_from_url" and found.line == 4
    assert "def echo(msg: dict):\n" in patched(source, found)


def test_another_refusal_while_loading_points_at_the_route():
    source = "from fastapi import FastAPI\napp = FastAPI()\n@app.post(\n    '/message',\n    status_code='ok',\n)\ndef echo(msg: dict):\n    return msg\n"
    found = explain(source, "AssertionError", "odd", 4)
    assert found is not None and found.cause == "route_refused" and found.line == 3 and found.raised_by_framework


def test_a_return_annotation_fastapi_checks_the_reply_against():
    source = HEAD + "def echo(msg: dict) -> str:\n    return {'received': msg}\n"
    issues = (ValidationIssue("string_type", ("response",), "Input should be a valid string", "dict"),)
    found = explain(source, "ResponseValidationError", "1 validation errors:", None, issues=issues, path="/message")
    assert found is not None and found.cause == "response_model_refused" and found.line == 7
    assert "def echo(msg: dict):\n" in patched(source, found)


def test_a_response_model_field_gets_the_type_of_what_was_returned():
    issues = (ValidationIssue("string_type", ("response", "received"), "Input should be a valid string", "dict"),)
    found = explain(
        RESPONSE_MODEL, "ResponseValidationError", "1 validation errors:", None, issues=issues, path="/message"
    )
    assert found is not None and "    received: dict\n" in patched(RESPONSE_MODEL, found)


def test_a_coroutine_returned_to_fastapi_is_a_missing_await_too():
    source = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.post('/message')\n"
        "async def echo(request: Request):\n    return {'received': request.json()}\n"
    )
    traceback = parse_traceback(
        "Traceback (most recent call last):\n  … 1 frame inside fastapi …\nTypeError: 'coroutine' object is not iterable\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n  … 19 frames inside uvicorn, fastapi, starlette …\n"
        "ValueError: [TypeError(\"'coroutine' object is not iterable\"), TypeError('vars() argument must have __dict__ attribute')]\n"
    )
    assert traceback is not None and traceback.raised_by_framework
    found = explain_traceback(traceback, build_source_model(source), path="/message", method="POST")
    assert found is not None and found.cause == "missing_await" and found.line == 5
    assert "{'received': await request.json()}" in patched(source, found)


def test_the_message_used_under_another_name_than_its_parameter():
    source = HEAD + "async def echo(payload: dict):\n    return {'received': msg}\n"
    found = explain(source, "NameError", "name 'msg' is not defined", 8)
    assert found is not None and found.cause == "parameter_named_otherwise" and "`payload`" in found.title
    assert "    return {'received': payload}\n" in patched(source, found)


def test_a_missing_import_joins_the_import_the_file_has_from_that_module():
    source = HEAD + "def echo(msg: dict = Body(...)):\n    return {'received': msg}\n"
    found = explain(source, "NameError", "name 'Body' is not defined", 7)
    assert found is not None and found.cause == "missing_import"
    assert patched(source, found).startswith("from fastapi import FastAPI, Body\n")
    source = "# My app\n" + HEAD + "def echo(msg: dict):\n    return JSONResponse({'received': msg})\n"
    found = explain(source, "NameError", "name 'JSONResponse' is not defined", 9)
    assert found is not None
    assert patched(source, found).startswith(
        "# My app\nfrom fastapi.responses import JSONResponse\nfrom fastapi import"
    )


def test_square_brackets_after_a_method():
    source = HEAD + "def echo(msg: dict):\n    text = msg.get['text']\n    return {'received': msg}\n"
    found = explain(source, "TypeError", "'builtin_function_or_method' object is not subscriptable", 8)
    assert (
        found is not None
        and found.cause == "brackets_for_call"
        and "    text = msg.get('text')\n" in patched(source, found)
    )


def test_json_method_on_the_message():
    source = HEAD + "def echo(msg: dict):\n    data = msg.json()\n    return {'received': data}\n"
    found = explain(source, "AttributeError", "'dict' object has no attribute 'json'", 8)
    assert found is not None and found.cause == "method_on_message" and "    data = msg\n" in patched(source, found)


def test_forms_need_a_parser_the_runtime_does_not_have():
    source = "from fastapi import FastAPI, Form\napp = FastAPI()\n@app.post('/message')\ndef send(text: str = Form()):\n    return text\n"
    found = explain(source, "RuntimeError", 'Form data requires "python-multipart" to be installed.', 3)
    assert found is not None and found.cause == "form_not_json" and found.line == 4


def test_a_module_name_with_capitals_and_a_class_imported_in_lower_case():
    source = "from FastAPI import FastAPI\napp = FastAPI()\n"
    found = explain(source, "ModuleNotFoundError", "No module named 'FastAPI'", 1)
    assert found is not None and found.cause == "misspelt_module"
    assert patched(source, found).startswith("from fastapi import FastAPI\n")
    source = "from fastapi import fastapi\n\napp = fastapi()\n@app.post('/m')\ndef m(msg: dict):\n    return msg\n"
    message = (
        "cannot import name 'fastapi' from 'fastapi' (/opt/runtime/lib/python3.11/site-packages/fastapi/__init__.py)"
    )
    found = explain(source, "ImportError", message, 1)
    assert found is not None and found.cause == "misspelt_import"
    assert patched(source, found).startswith("from fastapi import FastAPI\n\napp = FastAPI()\n@app.post('/m')")


def test_a_response_model_the_reply_lacks_altogether_is_removed_from_the_decorator():
    source = RESPONSE_MODEL.replace("received: str", "text: str")
    issues = (ValidationIssue("missing", ("response", "text"), "Field required", "dict"),)
    found = explain(source, "ResponseValidationError", "1 validation errors:", None, issues=issues, path="/message")
    assert found is not None and found.line == 6 and "@app.post('/message')\n" in patched(source, found)


def test_a_nested_value_refused_gives_the_field_the_container_type():
    source = RESPONSE_MODEL.replace("received: str", "received: Dict[str, str]").replace(
        "from pydantic", "from typing import Dict\nfrom pydantic"
    )
    issues = (
        ValidationIssue("string_type", ("response", "received", "priority"), "Input should be a valid string", "int"),
    )
    found = explain(source, "ResponseValidationError", "1 validation errors:", None, issues=issues, path="/message")
    assert found is not None and "    received: dict\n" in patched(source, found)


def test_a_string_method_on_a_value_that_is_a_number():
    source = HEAD + "def echo(msg: dict):\n    return {'received': {k: v.strip() for k, v in msg.items()}}\n"
    found = explain(source, "AttributeError", "'int' object has no attribute 'strip'", 8)
    assert found is not None and found.cause == "string_method_on_value" and "a whole number" in found.explanation
    # A dict's own method is not evidence that strings were assumed.
    found = explain(source, "AttributeError", "'dict' object has no attribute 'strip'", 8)
    assert found is not None and found.cause == "string_method_on_value"
    # An attribute the line does not read is no evidence against the line.
    assert explain(source, "AttributeError", "'list' object has no attribute 'count_all'", 8) is None


def test_the_request_object_returned_to_fastapi():
    source = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.post('/message')\n"
        "async def echo(request: Request):\n    return {'received': request}\n"
    )
    message = (
        "[TypeError(\"'coroutine' object is not iterable\"), TypeError('vars() argument must have __dict__ attribute')]"
    )
    found = explain(source, "ValueError", message, None, path="/message")
    # The message mentions a coroutine, but no json() call was left unawaited: it is the request itself.
    assert found is not None and found.cause == "returns_request" and found.line == 5


def test_the_package_lists_every_cause_code_its_rules_return():
    import re
    from pathlib import Path

    import grader.grading.evidence.exceptions as package

    folder = Path(package.__file__).parent
    returned = {code for path in folder.glob("*.py") for code in re.findall(r'cause="(\w+)"', path.read_text())}
    listed = set(re.findall(r"``(\w+)``", package.__doc__.split("Cause codes", 1)[1]))
    assert returned == listed


def test_a_key_read_from_the_text_json_dumps_made_points_at_json_dumps():
    source = (
        "import json\n" + HEAD + "def echo(msg: dict):\n    data = json.dumps(msg)\n"
        "    text = data['text']\n    return {'received': msg}\n"
    )
    found = explain(source, "TypeError", "string indices must be integers, not 'str'", 10)
    assert found is not None and found.cause == "text_where_dict" and found.line == 9
    assert "`json.dumps(msg)` on line 9" in found.title
    assert "    data = msg\n" in patched(source, found)


def test_a_dict_method_on_a_str_parameter_points_at_the_parameter():
    source = HEAD + "def echo(msg: str):\n    return {'received': dict(msg.items())}\n"
    found = explain(source, "AttributeError", "'str' object has no attribute 'items'", 8)
    assert found is not None and found.cause == "text_where_dict" and found.line == 7 and "`msg: str`" in found.title


def test_request_used_without_the_parameter_is_not_a_typo_of_the_class():
    source = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n@app.post('/message')\n"
        "async def echo(msg: dict):\n    data = await request.json()\n    return {'received': data}\n"
    )
    found = explain(source, "NameError", "name 'request' is not defined", 5)
    assert found is not None and found.cause == "request_not_a_parameter" and "Request" not in found.title
    assert "`msg` is already the message" in found.fix and found.fix_patch is None


def test_a_value_of_the_message_that_is_a_number_used_as_a_list():
    source = (
        HEAD
        + "def echo(msg: dict):\n    sizes = [len(value) for value in msg.values()]\n    return {'received': msg}\n"
    )
    for message in (
        "object of type 'int' has no len()",
        "'int' object is not subscriptable",
        "'bool' object is not iterable",
    ):
        found = explain(source, "TypeError", message, 8)
        assert found is not None and found.cause == "value_type_assumed", message
    assert explain(source, "TypeError", "object of type 'Foo' has no len()", 8) is None


def test_a_key_read_in_a_helper_is_not_claimed_to_be_the_graders_message_and_a_used_value_gets_no_edit():
    source = (
        "def describe(message):\n    return message['text'].upper()\n\n"
        + HEAD.replace("from fastapi import FastAPI\n", "from fastapi import FastAPI\n", 1)
        + "def echo(msg: dict):\n    describe(msg)\n    return {'received': msg}\n"
    )
    found = explain(source, "KeyError", "'text'", 2)
    assert found is not None and found.cause == "missing_key"
    assert "the message the grader sent" not in found.explanation and "`message`" in found.explanation
    # .get() would give None, and None has no .upper(): no edit is offered.
    assert found.fix_patch is None


def test_a_method_returned_without_brackets():
    source = HEAD + "def echo(msg: dict):\n    return {'received': msg.copy}\n"
    message = "[TypeError(\"'builtin_function_or_method' object is not iterable\"), TypeError('vars() argument must have __dict__ attribute')]"
    found = explain(source, "ValueError", message, None, path="/message")
    assert found is not None and found.cause == "unencodable_reply" and found.line == 8 and found.raised_by_framework
    assert "{'received': msg.copy()}" in patched(source, found)


def test_asyncio_run_inside_an_endpoint():
    source = "import asyncio\n" + HEAD + "def echo(msg: dict):\n    return asyncio.run(reply(msg))\n"
    found = explain(source, "RuntimeError", "asyncio.run() cannot be called from a running event loop", 9)
    assert found is not None and found.cause == "event_loop_in_handler" and found.line == 9
    assert found.fix_patch is None  # a plain def cannot await
    source = source.replace("def echo", "async def echo")
    found = explain(source, "RuntimeError", "asyncio.run() cannot be called from a running event loop", 9)
    assert found is not None and "    return await reply(msg)\n" in patched(source, found)


def test_edits_keep_a_files_tabs_and_crlf_line_ends():
    source = (
        "from fastapi import FastAPI\r\napp = FastAPI()\r\ncount = 0\r\n@app.post('/message')\r\n"
        "def echo(msg: dict):\r\n\tcount += 1\r\n\treturn {'received', msg}\r\n"
    )
    found = explain(
        source, "UnboundLocalError", "cannot access local variable 'count' where it is not associated with a value", 6
    )
    assert found is not None and "\tglobal count\n\tcount += 1\n" in patched(source, found)
    found = explain(source, "TypeError", "unhashable type: 'dict'", 7)
    assert found is not None and "\treturn {'received': msg}\n" in patched(source, found)


ODD_SOURCES = [
    "",
    "x",
    "def f(:\n",
    "x = 1\x00\n",
    "!pip install fastapi\n" + HEAD + "def echo(msg: dict):\n    return {'received', msg}\n",
    HEAD + "def echo(msg: dict):\n    return {'received': mgs}\n",
]
ODD_MESSAGES = [
    "unhashable type: 'dict'",
    "'dict' object is not callable",
    "f() missing 1 required positional argument: 'a'",
    "name 'mgs' is not defined",
    "'dict' object has no attribute 'text'",
    "'text'",
    "No module named 'FastAPI'",
    "1 validation errors:",
    "",
    "'",
]


@pytest.mark.parametrize("source", ODD_SOURCES)
def test_any_exception_on_any_file_at_any_line_is_explained_or_not_but_never_raises(source):
    from grader.grading.evidence.exceptions import RULES

    model = build_source_model(source)
    for exception in [*RULES, "RuntimeError", "Unknown"]:
        for message in ODD_MESSAGES:
            for line in (None, 0, 1, 8, 10_000):
                frame = Frame("solution.py", line, "echo", "") if line is not None else None
                found = explain_exception(exception, message, frame, model, path="/message", method="POST")
                if found is not None and found.fix_patch is not None:
                    assert found.fix_patch.after != found.fix_patch.before
                    assert found.fix_patch.apply(source) is not None


def test_the_class_given_for_the_app_without_brackets():
    source = (
        "from fastapi import FastAPI\n\napp = FastAPI\n\n@app.post('/message')\ndef echo(msg: dict):\n    return msg\n"
    )
    found = explain(source, "TypeError", "FastAPI.post() missing 1 required positional argument: 'path'", 5)
    assert found is not None and found.cause == "class_not_called" and found.line == 3
    assert "\napp = FastAPI()\n" in patched(source, found)


def test_a_framework_error_quotes_the_decorator_as_written():
    found = explain(RESPONSE_MODEL, "ValueError", "odd", None, path="/message")
    assert found is not None and "(line 6: `@app.post('/message', response_model=Reply)`)" in found.explanation


def test_the_files_own_async_helper_called_without_await():
    source = HEAD.replace("@app", "async def make_reply(msg):\n    return {'received': msg}\n\n@app") + (
        "async def echo(msg: dict):\n    return make_reply(msg)\n"
    )
    message = (
        "[TypeError(\"'coroutine' object is not iterable\"), TypeError('vars() argument must have __dict__ attribute')]"
    )
    found = explain(source, "ValueError", message, None, path="/message")
    assert found is not None and found.cause == "coroutine_not_awaited" and found.line == 11
    assert "    return await make_reply(msg)\n" in patched(source, found)


def test_a_global_statement_at_the_top_of_the_file_is_named():
    source = "global counter\ncounter = 0\n" + HEAD + "def echo(msg: dict):\n    counter += 1\n    return msg\n"
    found = explain(
        source,
        "UnboundLocalError",
        "cannot access local variable 'counter' where it is not associated with a value",
        10,
    )
    assert found is not None and found.cause == "missing_global"
    assert found.fix.startswith("`global counter` at the top of the file (line 1) does nothing")


# --- what a line hands to something that cannot take it ----------------------------------------


def test_await_before_a_plain_value_is_removed():
    source = HEAD + "async def echo(msg: dict):\n    reply = {'received': msg}\n    return await reply\n"
    found = explain(source, "TypeError", "object dict can't be used in 'await' expression", 9)
    assert found is not None and found.cause == "awaits_plain_value" and found.line == 9
    assert "`reply`" in found.title and "dict" in found.title
    assert found.fix == "Remove `await` there: `return reply`."
    assert "    return reply\n" in patched(source, found)


def test_a_line_with_two_awaits_is_not_edited_by_guess():
    source = HEAD + "async def echo(request):\n    return await request.json(), await build()\n"
    assert explain(source, "TypeError", "object dict can't be used in 'await' expression", 8) is None


def test_a_dict_given_to_a_plain_response_is_returned_as_it_is():
    source = HEAD.replace("FastAPI\n", "FastAPI, Response\n", 1) + (
        "async def echo(msg: dict):\n    return Response(content={'received': msg}, media_type='application/json')\n"
    )
    found = explain(source, "AttributeError", "'dict' object has no attribute 'encode'", 8, in_library=True)
    assert found is not None and found.cause == "response_content_not_text"
    assert "text or bytes" in found.title and "labels" in found.explanation
    assert "    return {'received': msg}\n" in patched(source, found)


def test_encode_raised_by_the_line_itself_is_not_blamed_on_a_response():
    source = HEAD + "async def echo(msg: dict):\n    return Response(msg.encode())\n"
    # The line itself read .encode (no library below it): the response rule must not claim it.
    found = explain(source, "AttributeError", "'dict' object has no attribute 'encode'", 8)
    assert found is None or found.cause != "response_content_not_text"


def test_encode_raised_in_a_library_without_a_response_names_no_response():
    source = HEAD + "async def echo(msg: dict):\n    return {'received': helper(msg)}\n"
    found = explain(source, "AttributeError", "'dict' object has no attribute 'encode'", 8, in_library=True)
    assert found is None or found.cause != "response_content_not_text"
    assert found is None or 'msg["encode"]' not in found.fix


def test_a_status_code_in_quotes_loses_them():
    source = HEAD.replace("FastAPI\n", "FastAPI\nfrom fastapi.responses import JSONResponse\n", 1) + (
        "async def echo(msg: dict):\n    return JSONResponse({'received': msg}, status_code=\"200\")\n"
    )
    found = explain(source, "TypeError", "'<' not supported between instances of 'str' and 'int'", 9, in_library=True)
    assert found is not None and found.cause == "status_code_as_text" and found.line == 9
    assert "status_code=200" in found.fix
    assert "status_code=200)" in patched(source, found)


def test_a_comparison_error_without_a_quoted_status_claims_no_status():
    source = HEAD + "async def echo(msg: dict):\n    return {'received': sorted(msg.values())}\n"
    found = explain(source, "TypeError", "'<' not supported between instances of 'str' and 'int'", 8)
    assert found is None or found.cause != "status_code_as_text"
