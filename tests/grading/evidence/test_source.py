"""The source model, read from small files written the way beginners write them (never run)."""

from __future__ import annotations

import pytest

from grader.grading.evidence import build_source_model


def test_the_lesson_solution_gives_its_app_route_parameter_and_return():
    model = build_source_model(
        "from fastapi import FastAPI\n"
        "\n"
        "app = FastAPI()\n"
        "\n"
        "\n"
        '@app.post("/message")\n'
        "def receive_message(msg: dict):\n"
        '    return {"received": msg}\n'
    )
    assert model.parsed and model.has_facts
    assert [(a.name, a.line, a.kind, a.call) for a in model.apps] == [("app", 3, "app", "FastAPI")]
    [route] = model.routes
    assert (route.line, route.owner, route.method, route.methods, route.path) == (
        6,
        "app",
        "post",
        ("POST",),
        "/message",
    )
    assert (route.function.name, route.function.line, route.function.is_async) == ("receive_message", 7, False)
    [param] = route.function.params
    assert (param.name, param.annotation, param.default, param.marker) == ("msg", "dict", None, None)
    [returned] = route.function.returns
    assert (returned.line, returned.kind, returned.keys, returned.text) == (
        8,
        "dict",
        ("received",),
        '{"received": msg}',
    )
    assert returned.conversions == ()
    assert [(i.module, i.origin) for i in model.imports] == [("fastapi", "runtime")]
    assert model.route_for("/message", "POST") is route and model.served_binding("app") == model.apps[0]


def test_body_embed_request_and_annotated_parameters():
    model = build_source_model(
        "from typing import Annotated\n"
        "from fastapi import Body, FastAPI, Request\n"
        "app = FastAPI()\n"
        '@app.post("/a")\n'
        "def a(msg: dict = Body(embed=True)):\n"
        "    return msg\n"
        '@app.post("/b")\n'
        "async def b(request: Request):\n"
        "    return await request.json()\n"
        '@app.post("/c")\n'
        "def c(msg: Annotated[dict, Body(embed=True)], n: int = 3):\n"
        "    return msg\n"
    )
    embedded = model.routes[0].function.params[0]
    assert embedded.marker == "Body" and embedded.marker_keywords == (("embed", "True"),) and embedded.embedded
    assert embedded.default == "Body(embed=True)"
    request = model.routes[1].function.params[0]
    assert request.is_request and not request.embedded and model.routes[1].function.body_params == ()
    annotated, number = model.routes[2].function.params
    assert annotated.embedded and annotated.annotation_type == "dict"
    assert (number.annotation, number.default, number.marker) == ("int", "3", None)
    assert model.routes[1].function.returns[0].kind == "await"


def test_decorator_arguments_spread_over_lines_with_tabs_and_crlf():
    source = (
        "from fastapi import FastAPI\r\n"
        "from fastapi.responses import PlainTextResponse\r\n"
        "app = FastAPI()\r\n"
        "@app.api_route(\r\n"
        '\t"/message",\r\n'
        '\tmethods=["GET", "POST"],\r\n'
        "\tresponse_model=dict,\r\n"
        "\tstatus_code=201,\r\n"
        "\tresponse_class=PlainTextResponse,\r\n"
        ")\r\n"
        "async def echo(msg: dict):\r\n"
        '\treturn {"received": msg}\r\n'
    )
    model = build_source_model(source)
    [route] = model.routes
    assert (route.line, route.end_line, route.method, route.methods) == (4, 10, "api_route", ("GET", "POST"))
    assert (route.response_model, route.status_code, route.response_class) == ("dict", "201", "PlainTextResponse")
    assert route.function.line == 11 and route.function.first_line == 4 and route.function.returns[0].line == 12
    assert model.code(12) == 'return {"received": msg}'


def test_a_star_import_still_finds_the_app_and_the_markers():
    model = build_source_model(
        "from fastapi import *\napp = FastAPI()\n@app.post('/m')\ndef m(x: dict = Body(embed=True)):\n    return x\n"
    )
    assert model.star_imports == ("fastapi",)
    assert [a.kind for a in model.apps] == ["app"]
    assert model.routes[0].function.params[0].embedded
    assert "Body" in model.names_in_scope(5)


def test_several_apps_and_an_app_rebound_after_its_routes():
    model = build_source_model(
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "admin = FastAPI()\n"
        "@app.post('/message')\n"
        "def first(msg: dict):\n"
        "    return {'received': msg}\n"
        "@admin.get('/stats')\n"
        "def stats():\n"
        "    return {}\n"
        "app = FastAPI(title='again')\n"
    )
    assert [(a.name, a.line, a.kind) for a in model.apps] == [
        ("app", 2, "app"),
        ("admin", 3, "app"),
        ("app", 10, "app"),
    ]
    assert model.apps[-1].arguments == "title='again'"
    assert model.served_binding("app").line == 10
    assert [route.function.name for route in model.lost_routes("app")] == ["first"]
    assert model.routes[0].owner_line == 2 and model.routes_on("admin")[0].path == "/stats"


def test_an_app_rebound_to_something_else_is_recorded():
    model = build_source_model("from fastapi import FastAPI\napp = FastAPI()\napp = 'my app'\ndef app():\n    pass\n")
    assert [(a.line, a.kind) for a in model.apps] == [(2, "app"), (3, "other"), (4, "other")]
    assert model.served_binding("app").kind == "other"


def test_routers_and_whether_they_are_included():
    model = build_source_model(
        "from fastapi import APIRouter, FastAPI\n"
        "app = FastAPI()\n"
        "router = APIRouter(prefix='/api')\n"
        "forgotten = APIRouter()\n"
        "@router.post('/message')\n"
        "def echo(msg: dict):\n"
        "    return {'received': msg}\n"
        "app.include_router(router, prefix='/v1')\n"
    )
    assert [(r.name, r.arguments) for r in model.routers()] == [("router", "prefix='/api'"), ("forgotten", "")]
    assert model.included("router") and not model.included("forgotten")
    assert model.inclusions[0].line == 8 and model.inclusions[0].arguments == "router, prefix='/v1'"
    assert model.routes[0].owner == "router"


def test_a_factory_function_that_creates_the_app():
    model = build_source_model(
        "from fastapi import FastAPI\n"
        "def create_app():\n"
        "    application = FastAPI()\n"
        "    @application.post('/message')\n"
        "    def echo(msg: dict):\n"
        "        return {'received': msg}\n"
        "    return application\n"
        "app = create_app()\n"
    )
    assert [(a.name, a.function) for a in model.apps] == [("application", "create_app")]
    assert model.routes[0].owner == "application" and model.routes[0].function.name == "echo"
    # The factory's own return is not the endpoint's.
    assert [r.text for r in model.routes[0].function.returns] == ["{'received': msg}"]


def test_a_decorator_without_brackets_registers_nothing():
    model = build_source_model(
        "from fastapi import FastAPI\napp = FastAPI()\n@app.post\ndef echo(msg: dict):\n    return msg\n"
    )
    assert [route.called for route in model.routes] == [False]


def test_conversions_are_traced_back_to_their_own_line():
    model = build_source_model(
        "import json\n"
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "@app.post('/message')\n"
        "def echo(msg: dict):\n"
        "    text = json.dumps(msg)\n"
        "    reply = text\n"
        "    return {'received': reply}\n"
    )
    [returned] = model.routes[0].function.returns
    assert [(c.name, c.line) for c in returned.conversions] == [("json.dumps", 6)]


def test_what_a_return_returns():
    model = build_source_model(
        "from fastapi import FastAPI\n"
        "from fastapi.responses import JSONResponse\n"
        "app = FastAPI()\n"
        "@app.post('/a')\n"
        "def a(msg: dict):\n"
        "    if msg:\n"
        "        return {'received', msg}\n"
        "    elif len(msg) > 3:\n"
        "        return 'received', msg\n"
        "    elif msg.get('x'):\n"
        "        return JSONResponse(content=str(msg))\n"
        "    elif msg.get('y'):\n"
        "        return f'{msg}'\n"
        "    return\n"
        "@app.post('/b')\n"
        "def b(msg: dict):\n"
        "    print({'received': msg})\n"
    )
    kinds = [(r.line, r.kind) for r in model.routes[0].function.returns]
    assert kinds == [(7, "set"), (9, "tuple"), (11, "call"), (13, "fstring"), (14, "nothing")]
    wrapped = model.routes[0].function.returns[2]
    assert wrapped.wraps == "fastapi.responses.JSONResponse" and [c.name for c in wrapped.conversions] == ["str"]
    silent = model.routes[1].function
    assert silent.returns == () and silent.ends_without_return and [p.line for p in silent.prints] == [17]


def test_module_level_state_written_by_handlers():
    model = build_source_model(
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "count = 0\n"
        "seen = []\n"
        "last = {}\n"
        "class State:\n"
        "    total = 0\n"
        "state = State()\n"
        "@app.post('/message')\n"
        "def echo(msg: dict):\n"
        "    global count\n"
        "    count = count + 1\n"
        "    seen.append(msg)\n"
        "    last['msg'] = msg\n"
        "    state.total += 1\n"
        "    local = []\n"
        "    local.append(1)\n"
        "    return {'received': msg}\n"
        "@app.post('/other')\n"
        "def other(msg: dict):\n"
        "    count += 1\n"
        "    return {}\n"
    )
    writes = [(w.name, w.line, w.how, w.defined_line, w.handler) for w in model.state_writes]
    assert writes == [
        ("count", 12, "global", 3, True),
        ("seen", 13, "mutation", 4, True),
        ("last", 14, "item", 5, True),
        ("state", 15, "attribute", 8, True),
        ("count", 21, "shadowed", 3, True),
    ]


def test_blocking_calls_inside_async_functions():
    model = build_source_model(
        "import time\n"
        "import requests\n"
        "from time import sleep as nap\n"
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "@app.post('/message')\n"
        "async def echo(msg: dict):\n"
        "    time.sleep(2)\n"
        "    nap(1)\n"
        "    requests.get('http://example.invalid')\n"
        "    name = input('name? ')\n"
        "    return {'received': msg}\n"
        "def helper():\n"
        "    time.sleep(1)\n"
    )
    found = [(b.call, b.line, b.function, b.in_async) for b in model.blocking_calls]
    assert found == [
        ("time.sleep", 8, "echo", True),
        ("time.sleep", 9, "echo", True),
        ("requests.get", 10, "echo", True),
        ("input", 11, "echo", True),
        ("time.sleep", 14, "helper", False),
    ]


def test_imports_by_where_they_come_from():
    model = build_source_model(
        "import json, os.path\n"
        "import requests\n"
        "from fastapi.responses import JSONResponse\n"
        "from models import Message\n"
        "from .schemas import Reply\n"
        "import numpy as np\n",
        packages=["fastapi", "starlette"],
    )
    found = [(i.module, i.line, i.origin, i.likely_local) for i in model.imports]
    assert found == [
        ("json", 1, "stdlib", False),
        ("os.path", 1, "stdlib", False),
        ("requests", 2, "other", False),
        ("fastapi.responses", 3, "runtime", False),
        ("models", 4, "other", True),
        (".schemas", 5, "relative", True),
        ("numpy", 6, "other", False),
    ]
    assert [i.module for i in model.unavailable_imports()] == ["requests", "models", ".schemas", "numpy"]
    assert model.imports[4].names == ("Message",) and model.imports[4].root == "models"


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("!pip install fastapi", "notebook_shell"),
        ("%pip install fastapi", "magic"),
        ("$ uvicorn main:app --reload", "shell_prompt"),
        ("pip install fastapi uvicorn", "command"),
        ("uvicorn main:app --reload", "command"),
        ("python -m uvicorn main:app", "command"),
        ("```python", "markdown_fence"),
    ],
)
def test_terminal_and_notebook_lines_are_named_and_the_rest_still_read(line, kind):
    source = f"{line}\nfrom fastapi import FastAPI\napp = FastAPI()\n@app.post('/message')\ndef echo(msg: dict):\n    return msg\n"
    model = build_source_model(source)
    assert not model.parsed and model.has_facts
    problem = model.syntax_error
    assert problem is not None and problem.line == 1 and problem.kind == "not_python"
    assert problem.not_python is not None and problem.not_python.kind == kind
    assert model.read_without == (1,)
    assert [route.path for route in model.routes] == ["/message"] and model.routes[0].function.line == 5


def test_a_python_prompt_loses_only_its_prompt():
    model = build_source_model(">>> from fastapi import FastAPI\n>>> app = FastAPI()\n")
    assert model.syntax_error is not None and model.syntax_error.kind == "not_python"
    assert [a.line for a in model.apps] == [2] and model.read_without == (1, 2) and model.has_facts


@pytest.mark.parametrize(
    ("source", "kind", "line"),
    [
        ("def echo(msg: dict)\n    return msg\n", "missing_colon", 1),
        ("x = {'a': 1\ny = 2\n", "unclosed_bracket", 1),
        ("x = 'abc\n", "unterminated_string", 1),
        ("def f():\nreturn 1\n", "indentation", 2),
        ("def f():\n\tif 1:\n        return 1\n\treturn 2\n", "tabs_and_spaces", 3),
        ("x = \u201chello\u201d\n", "invalid_character", 1),
        ("x = [1 2]\n", "missing_comma", 1),
        ("print 'hello'\n", "python2_print", 1),
        ("if x = 1:\n    pass\n", "assign_in_expression", 1),
    ],
)
def test_syntax_errors_say_where_and_why(source, kind, line):
    model = build_source_model(source)
    assert not model.parsed and not model.has_facts
    assert model.syntax_error is not None
    assert (model.syntax_error.kind, model.syntax_error.line) == (kind, line)
    assert model.syntax_error.not_python is None and model.routes == ()


def test_a_string_holding_a_shell_line_is_python_all_the_same():
    model = build_source_model('HELP = """\n!pip install fastapi\n$ uvicorn main:app\n"""\n')
    assert model.parsed and model.shell_lines == ()


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("x = " + "a." * 100_000 + "b\n", "too_deep"),  # RecursionError in ast.parse
        ("x = " + "-" * 100_000 + "1\n", "too_deep"),  # MemoryError in ast.parse
        ("x = 1\x00\n", "null_bytes"),
        ("x = 1\n" * 50_000, "too_large"),
    ],
)
def test_hostile_files_give_a_model_that_says_it_could_not_read_them(source, why):
    model = build_source_model(source)
    assert model.unreadable == why and not model.parsed and not model.has_facts
    assert model.routes == () and model.imports == ()


def test_nesting_python_refuses_is_a_syntax_error_said_as_such():
    model = build_source_model("x = " + "(" * 100_000 + ")" * 100_000 + "\n")
    assert model.syntax_error is not None and model.syntax_error.message == "too many nested parentheses"


def test_long_chains_that_do_parse_are_read_without_recursion():
    source = "x = " + " + ".join(["a"] * 5000) + "\nfrom fastapi import FastAPI\napp = FastAPI()\n"
    model = build_source_model(source)
    assert model.parsed or model.unreadable == "too_deep"
    if model.parsed:
        assert [a.line for a in model.apps] == [3]


def test_line_helpers():
    model = build_source_model("a = 1\n# b = 2\nb = 2\n")
    assert model.valid_line(3) == 3 and model.valid_line(4) is None and model.valid_line(True) is None
    assert model.code(3) == "b = 2" and model.code(None) == "" and model.line_text(0) == ""
    assert model.find(r"b = 2") == 3  # comments are skipped


def test_an_endless_loop_in_a_handler_is_found_and_a_loop_with_a_way_out_is_not():
    model = build_source_model(
        "def echo(msg):\n"
        "    while True:\n"
        "        pass\n"
        "    while 1:\n"
        "        if msg:\n"
        "            break\n"
        "    while True:\n"
        "        for x in msg:\n"
        "            break\n"
    )
    # A break inside the inner for leaves only that loop; good enough to count as a way out here.
    assert model.functions[0].endless_loops == (2,)


def test_a_sentence_pasted_with_the_code_is_not_python():
    model = build_source_model("Here is my code:\nfrom fastapi import FastAPI\napp = FastAPI()\n")
    assert model.syntax_error is not None and model.syntax_error.kind == "not_python"
    assert model.syntax_error.not_python is not None and model.syntax_error.not_python.kind == "prose"
    assert [a.line for a in model.apps] == [3]


def test_network_calls_of_requests_block_but_making_a_session_does_not():
    model = build_source_model(
        "import requests\nasync def f():\n    s = requests.Session()\n    requests.post('http://127.0.0.1:1')\n"
    )
    assert [(b.call, b.line) for b in model.blocking_calls] == [("requests.post", 4)]


def test_a_router_included_before_its_routes_and_a_route_declared_twice():
    model = build_source_model(
        "from fastapi import APIRouter, FastAPI\n"
        "app = FastAPI()\n"
        "router = APIRouter()\n"
        "app.include_router(router)\n"
        "@router.post('/message')\n"
        "def echo(msg: dict):\n"
        "    return {'received': msg}\n"
        "@app.post('/message/{msg}')\n"
        "def first(msg: str):\n"
        "    return msg\n"
        "@app.api_route('/message/{msg}', methods=['POST'])\n"
        "def second(msg: str):\n"
        "    return msg\n"
    )
    assert [route.function.name for route in model.included_early("router")] == ["echo"]
    assert [(a.function.name, b.function.name) for a, b in model.duplicate_routes()] == [("first", "second")]
    assert model.routes[1].path_parameters == ("msg",)


@pytest.mark.parametrize(
    "source",
    [
        "x = {'é': 'naïve', \"\u201cq\u201d\": [1,\n  2]}\ndef f(a: dict = {'k':\n 'v'}) -> str:\n    return a['é'] + '😀'\n",
        'a = 1\r\nb = (a +\r\n     2)\r\nc = "tab\there"\r\n',
        "a = 1\rb = [a,\r a]\r",
        "import json\nx = json.dumps({'a': 1})\f\ny = 2\n",
    ],
)
def test_node_text_is_what_python_reports(source):
    import ast

    from grader.grading.evidence.source import SOURCE_LINE, _Reader

    tree = ast.parse(source)
    reader = _Reader(source, tuple(source.splitlines()), tree, frozenset())
    assert "".join(SOURCE_LINE.findall(source)) == source
    for node in ast.walk(tree):
        if getattr(node, "end_lineno", None) is None:
            continue
        expected = " ".join(part.strip() for part in (ast.get_source_segment(source, node) or "").splitlines())
        assert reader.segment(node) == expected[:299] + ("…" if len(expected) > 300 else expected[299:300])


def test_a_byte_order_mark_is_left_out_as_python_does_when_it_loads_the_file():
    # Notepad's UTF-8 files start with one; the sandbox loads such a file without complaint.
    source = "\ufefffrom fastapi import FastAPI\napp = FastAPI()\n"
    model = build_source_model(source)
    assert model.parsed and [a.line for a in model.apps] == [2] and model.code(1) == "from fastapi import FastAPI"
    assert model.text == source


def test_a_route_added_without_a_decorator():
    model = build_source_model(
        "from fastapi import FastAPI\napp = FastAPI()\ndef echo(msg: dict):\n    return {'received': msg}\n"
        "app.add_api_route('/message', echo, methods=['POST'])\n"
    )
    [route] = model.routes
    assert (route.line, route.path, route.methods, route.function.name) == (5, "/message", ("POST",), "echo")


def test_terminal_lines_inside_a_docstring_are_not_counted_when_another_line_is_wrong():
    source = '"""Run it:\n$ uvicorn main:app --reload\n"""\ndef echo(msg)\n    return msg\n'
    model = build_source_model(source)
    assert model.syntax_error is not None and model.syntax_error.kind == "missing_colon"
    assert model.shell_lines == ()


def test_a_loop_waiting_for_a_flag_nothing_inside_it_can_change():
    model = build_source_model(
        "ready = False\n"
        "async def wait(msg):\n"
        "    while not ready:\n"
        "        pass\n"
        "    while not ready:\n"
        "        ready = check()\n"
        "    while not ready:\n"
        "        await asyncio.sleep(0.1)\n"
        "    while msg:\n"
        "        msg = msg[1:]\n"
    )
    assert model.functions[0].endless_loops == (3,)


def test_raises_know_their_status_condition_and_the_block_that_holds_only_them():
    model = build_source_model(
        "from fastapi import HTTPException, status\n"
        "def echo(msg: dict):\n"
        "    for value in msg.values():\n"
        "        if value is None:\n"
        "            raise HTTPException(status_code=422, detail='no nulls')\n"
        "    if not msg:\n"
        "        print('empty')\n"
        "        raise HTTPException(status.HTTP_400_BAD_REQUEST)\n"
        "    return {'received': msg}\n"
        "def fail():\n"
        "    raise ValueError('always')\n"
    )
    loop, empty = model.function_named("echo").raises
    assert (loop.line, loop.status, loop.condition, loop.condition_line, loop.removable) == (
        5,
        422,
        "value is None",
        4,
        (3, 5),
    )
    assert (empty.status, empty.condition, empty.removable) == (400, "not msg", (8, 8))
    [alone] = model.function_named("fail").raises
    assert alone.status is None and alone.removable is None, "deleting it would empty the function"


def test_classes_say_whether_fastapi_keeps_only_their_fields():
    model = build_source_model(
        "import dataclasses\n"
        "from typing import TypedDict\n"
        "from pydantic import BaseModel\n"
        "@dataclasses.dataclass(frozen=True)\n"
        "class A:\n"
        "    text: str\n"
        "class B(BaseModel):\n"
        "    text: str\n"
        "class C(TypedDict):\n"
        "    text: str\n"
        "class D:\n"
        "    text: str\n"
    )
    assert [cls.kind for cls in model.classes] == ["dataclass", "pydantic model", "TypedDict", None]


def test_awaits_are_read_even_in_a_plain_def():
    model = build_source_model("def echo(msg):\n    await log(msg)\n    return msg\n")
    assert model.parsed and model.function_named("echo").awaits == (2,)
