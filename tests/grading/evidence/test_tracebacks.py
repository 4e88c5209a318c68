"""The one traceback parser, on tracebacks as the grading stores them (copied from real gradings)."""

from __future__ import annotations

from grader.grading.evidence import parse_load_error, parse_traceback

# A case's output: the grading puts the exception and the learner's line first, then the
# server's traceback with the library frames folded.
CASE_OUTPUT = """\
TypeError: unhashable type: 'dict'
  in solution.py, line 8: return {"received", msg}

ERROR:    Exception in ASGI application
Traceback (most recent call last):
  … 21 frames inside uvicorn, fastapi, starlette, anyio …
  File "solution.py", line 8, in echo
    return {"received", msg}
           ^^^^^^^^^^^^^^^^^
TypeError: unhashable type: 'dict'
"""

RAISED_IN_A_LIBRARY = """\
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  … 21 frames inside uvicorn, fastapi, starlette, anyio …
  File "solution.py", line 9, in echo
    data = json.loads(msg)
           ^^^^^^^^^^^^^^^
  … 1 frame inside __init__.py …
TypeError: the JSON object must be str, bytes or bytearray, not dict
"""

RAISED_BY_FASTAPI = """\
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  … 17 frames inside uvicorn, fastapi, starlette …
fastapi.exceptions.ResponseValidationError: 1 validation errors:
  {'type': 'string_type', 'loc': ('response', 'received'), 'msg': 'Input should be a valid string', 'input': {'text': 'Hello'}}

INFO:     127.0.0.1:40000 - "POST /message HTTP/1.1" 500 Internal Server Error
"""

RECURSION = """\
Traceback (most recent call last):
  File "solution.py", line 12, in echo
    return {"received": reply(msg)}
  File "solution.py", line 7, in reply
    return reply(msg)
  File "solution.py", line 7, in reply
    return reply(msg)
  [Previous line repeated 991 more times]
RecursionError: maximum recursion depth exceeded
"""

UNFOLDED = """\
ERROR:    Exception in ASGI application
Traceback (most recent call last):
  File "/opt/runtime/lib/python3.11/site-packages/uvicorn/protocols/http/h11_impl.py", line 403, in run_asgi
    result = await app(  # type: ignore[func-returns-value]
             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/runtime/lib/python3.11/site-packages/fastapi/routing.py", line 212, in run_endpoint_function
    return await dependant.call(**values)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "solution.py", line 8, in receive_message
    first_key = list(msg)[0]
                ~~~~~~~~~^^^
IndexError: list index out of range
"""

CHAINED = """\
Traceback (most recent call last):
  File "solution.py", line 9, in echo
    value = msg["text"]
KeyError: 'text'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "solution.py", line 11, in echo
    raise ValueError("no text")
ValueError: no text
"""

EXCEPTION_GROUP = """\
  + Exception Group Traceback (most recent call last):
  |   File "/opt/runtime/lib/python3.11/site-packages/anyio/_backends/_asyncio.py", line 680, in __aexit__
  |     raise BaseExceptionGroup(
  | ExceptionGroup: unhandled errors in a TaskGroup (1 sub-exception)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/opt/runtime/lib/python3.11/site-packages/starlette/routing.py", line 73, in app
    |     response = await f(request)
    |   File "solution.py", line 8, in echo
    |     return {"received": mgs}
    | NameError: name 'mgs' is not defined
    +------------------------------------
"""


def test_a_case_output_gives_the_exception_and_the_learners_frame():
    traceback = parse_traceback(CASE_OUTPUT)
    assert traceback is not None
    assert (traceback.exception_type, traceback.message) == ("TypeError", "unhashable type: 'dict'")
    assert traceback.exception == "TypeError: unhashable type: 'dict'"
    frame = traceback.learner_frame
    assert frame is not None and (frame.line, frame.function, frame.source) == (8, "echo", 'return {"received", msg}')
    assert traceback.folded_frames == 21 and traceback.library_frame_count == 21
    assert not traceback.raised_by_framework and not traceback.raised_in_library
    assert traceback.text.startswith("Traceback (most recent call last):")


def test_a_library_the_learners_line_called_raised_it():
    traceback = parse_traceback(RAISED_IN_A_LIBRARY)
    assert traceback is not None and traceback.learner_frame is not None
    assert traceback.learner_frame.line == 9
    assert traceback.raised_in_library and not traceback.raised_by_framework


def test_the_framework_raised_it_with_no_learner_line_and_its_validation_items():
    traceback = parse_traceback(RAISED_BY_FASTAPI)
    assert traceback is not None
    assert traceback.exception_name == "ResponseValidationError"
    assert traceback.exception_type == "fastapi.exceptions.ResponseValidationError"
    assert traceback.raised_by_framework and traceback.learner_frame is None
    [issue] = traceback.validation_issues
    assert (issue.type, issue.loc, issue.msg) == (
        "string_type",
        ("response", "received"),
        "Input should be a valid string",
    )
    assert traceback.after == ('INFO:     127.0.0.1:40000 - "POST /message HTTP/1.1" 500 Internal Server Error',)


def test_a_recursion_counts_the_lines_python_left_out():
    traceback = parse_traceback(RECURSION)
    assert traceback is not None and traceback.repeated == 991
    assert [frame.line for frame in traceback.learner_frames] == [12, 7, 7]
    assert traceback.exception_name == "RecursionError"


def test_library_frames_are_told_apart_from_the_learners():
    traceback = parse_traceback(UNFOLDED)
    assert traceback is not None
    assert [frame.line for frame in traceback.learner_frames] == [8]
    assert len(traceback.library_frames) == 2 and traceback.library_frames[0].function == "run_asgi"
    assert traceback.library_frames[0].source.startswith("result = await app(")


def test_a_chain_ends_with_the_last_exception_and_keeps_the_earlier_one():
    traceback = parse_traceback(CHAINED)
    assert traceback is not None
    assert traceback.exception == "ValueError: no text"
    assert traceback.learner_frame is not None and traceback.learner_frame.line == 11
    assert traceback.chained == ("KeyError: 'text'",)


def test_an_exception_group_is_read_through_its_margins():
    traceback = parse_traceback(EXCEPTION_GROUP)
    assert traceback is not None
    assert traceback.exception == "NameError: name 'mgs' is not defined"
    assert traceback.learner_frame is not None and traceback.learner_frame.line == 8


def test_no_traceback_is_none():
    assert parse_traceback("first key: text\nINFO: all good") is None
    assert parse_traceback("") is None


def test_a_learner_file_elsewhere_is_not_trusted_as_theirs():
    forged = 'Traceback (most recent call last):\n  File "/opt/runtime/solution.py", line 3, in x\nValueError: no'
    traceback = parse_traceback(forged)
    assert traceback is not None and traceback.learner_frame is None


def test_the_boot_scripts_load_error_is_read_too():
    message = (
        "AttributeError: 'FastAPI' object has no attribute 'Post'\n"
        "  in solution.py, line 6:\n"
        '    @app.Post("/message")\n'
        "\n"
        "Your file's lines on the way there:\n"
        '  File "solution.py", line 6, in <module>\n'
        '    @app.Post("/message")'
    )
    assert parse_traceback(message) is None  # no Traceback header: the page shows it as it is
    traceback = parse_load_error(message)
    assert traceback is not None
    assert traceback.exception == "AttributeError: 'FastAPI' object has no attribute 'Post'"
    assert traceback.learner_frame is not None
    assert (traceback.learner_frame.line, traceback.learner_frame.source) == (6, '@app.Post("/message")')


def test_hostile_output_is_read_in_bounded_time_and_size():
    flood = (
        "Traceback (most recent call last):\n" + '  File "solution.py", line 1, in f\n' * 200_000 + "E: " + "x" * 10**6
    )
    traceback = parse_traceback(flood)
    assert traceback is not None
    assert len(traceback.message) <= 500 and traceback.exception_type == "E"


def test_the_kind_of_value_a_validation_error_refused():
    traceback = parse_traceback(
        "Traceback (most recent call last):\n"
        "fastapi.exceptions.ResponseValidationError: 4 validation errors:\n"
        "  {'type': 'string_type', 'loc': ('response', 'a'), 'msg': 'Input should be a valid string', 'input': {'x': 1}}\n"
        "  {'type': 'string_type', 'loc': ('response', 'b', 0), 'msg': 'Input should be a valid string', 'input': 2.5}\n"
        "  {'type': 'int_type', 'loc': ('response', 'c'), 'msg': \"Input should be a valid integer\", 'input': 'x'}\n"
        "  {'type': 'missing', 'loc': ('response', 'd'), 'msg': 'Field required', 'input': None}\n"
    )
    assert traceback is not None
    found = [(issue.loc, issue.input_kind) for issue in traceback.validation_issues]
    assert found == [
        (("response", "a"), "dict"),
        (("response", "b", 0), "float"),
        (("response", "c"), "str"),
        (("response", "d"), "None"),
    ]
