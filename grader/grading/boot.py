"""Runs INSIDE the sandbox, with the learner runtime's interpreter.

It imports the server libraries first (so a pre-started sandbox pays for them
before any submission arrives), then reads the submission's source from stdin,
loads it as the module ``solution``, finds the ASGI application and serves it
with uvicorn on the listening socket the host passed in as a file descriptor.

Progress goes to the status file descriptor as JSON lines. The submission runs
in this same process and could write there too, so the host treats these lines
as hints for error messages only: scores come from HTTP responses alone, and a
line from here can never make an error count as the grader's own. An error event
may carry a few facts (``cause``, ``line``, ``exception``, ``detail``, ``module``,
``names``, ``what``) that the host checks before it explains anything with them.

While the submission is imported, the calls a beginner makes that can never work
under a grader (starting a server, asking for keyboard input, ending the program)
are caught at once and reported as such, instead of hanging until the start-up
deadline.

While the server runs, a watchdog thread looks at the request being handled:
once one has run for ``STALL_SECONDS``, it sends a ``stall`` event now and then
with the submission's innermost line that the request is running or waiting on
(from the request's task and every thread's stack), so that a case the host
gives up on can name the learner's line it was blocked on. The host checks that
line and function name against the source before it uses them.

Only the standard library and the learner runtime's packages are available.
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import contextlib
import inspect
import json
import linecache
import os
import socket
import sys
import threading
import time
import traceback
import types
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, NoReturn, cast

if TYPE_CHECKING:
    from uvicorn._types import ASGIApplication

MODULE_NAME = "solution"
FILE_NAME = "solution.py"
MAX_SOURCE_BYTES = 1024 * 1024
MAX_LEARNER_FRAMES = 8
DETAIL_CHARS = 300
STALL_SECONDS = 0.8
"""A request running this long is sampled: the line it is blocked on goes to the host."""
STALL_SAMPLE_SECONDS = 0.5
"""How often a stalled request is sampled again (its latest line is the one that counts)."""
MAX_STALL_EVENTS = 200
"""Stall events one server sends at most (the status channel stays small)."""
MAX_AWAIT_DEPTH = 400
"""Awaited coroutines followed at most from a request's task down to where it waits."""


class StoppedAtImport(BaseException):
    """Raised in place of a call that cannot work while the file is being graded.

    A BaseException, so that a learner's ``except Exception`` does not swallow it.
    """

    def __init__(self, cause: str, line: int | None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.line = line


class Status:
    """Writes progress events to the host."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "w", buffering=1, encoding="utf-8", closefd=True)

    def send(self, event: str, **fields: object) -> None:
        try:
            self._file.write(json.dumps({"event": event, **fields}) + "\n")
            self._file.flush()
        except (OSError, ValueError):
            pass  # The host went away or the submission closed the descriptor.


def _preimport() -> None:
    import uvicorn  # noqa: F401
    import uvicorn.lifespan.on  # noqa: F401
    import uvicorn.protocols.http.h11_impl  # noqa: F401

    with contextlib.suppress(ImportError):
        import fastapi  # noqa: F401


def _read_source() -> str:
    """The submission: a length line, then that many bytes. Stdin stays open after it."""
    header = sys.stdin.buffer.readline(32)
    try:
        length = min(int(header), MAX_SOURCE_BYTES)
    except ValueError:
        length = 0
    return sys.stdin.buffer.read(length).decode("utf-8", errors="replace")


def _on_host_hangup(callback: Callable[[], object]) -> None:
    """Call ``callback`` once the host closes stdin, which it does when grading is over."""

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        callback()

    threading.Thread(target=watch, name="host-watch", daemon=True).start()


def _syntax_message(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}" if exc.lineno else "somewhere in the file"
    lines = [f"{FILE_NAME}, {where}: {exc.msg}"]
    if exc.text:
        code = exc.text.rstrip("\n")
        lines.append(f"    {code.strip()}")
        if exc.offset and exc.offset > 0:
            indent = len(code) - len(code.lstrip())
            lines.append("    " + " " * max(exc.offset - 1 - indent, 0) + "^")
    return "\n".join(lines)


def _caller_line() -> int | None:
    """The line of the submission's innermost frame on the current stack."""
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == FILE_NAME:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _learner_line(exc: BaseException) -> int | None:
    """The line of the submission's innermost frame in ``exc``'s traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == FILE_NAME:
            line = frame.lineno
    return line


def _exception_line(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _import_error_message(exc: BaseException) -> str:
    """The exception's own line, the learner's innermost line, then their frames only.

    Library frames are counted, not shown: however deep FastAPI raised, the
    learner's line is never cut off.
    """
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename != __file__]
    own = [frame for frame in frames if frame.filename == FILE_NAME]
    lines = [_exception_line(exc)]
    if own:
        innermost = own[-1]
        lines.append(f"  in {FILE_NAME}, line {innermost.lineno}:")
        if innermost.line:
            lines.append(f"    {innermost.line.strip()}")
    shown = own[-MAX_LEARNER_FRAMES:]
    if shown:
        left_out = len(frames) - len(shown)
        lines += [
            "",
            "Your file's lines on the way there" + (f" ({left_out} library lines left out):" if left_out else ":"),
        ]
        for frame in shown:
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line.strip()}")
    return "\n".join(lines)


def _import_error_facts(exc: BaseException) -> dict[str, object]:
    facts: dict[str, object] = {
        "cause": "exception",
        "exception": type(exc).__name__,
        "detail": str(exc).strip().splitlines()[-1][:DETAIL_CHARS] if str(exc).strip() else "",
        "line": _learner_line(exc),
    }
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        facts["cause"] = "missing_module"
        facts["module"] = exc.name
    return facts


@contextlib.contextmanager
def _guarded_import() -> Iterator[None]:
    """Replace, while the submission is imported, the calls that cannot work under a grader."""

    def stop(cause: str) -> Callable[..., NoReturn]:
        def refuse(*_args: object, **_kwargs: object) -> NoReturn:
            raise StoppedAtImport(cause, _caller_line())

        return refuse

    import uvicorn

    real_exit = os._exit
    importer = (os.getpid(), threading.get_ident())

    def exit_now(status: int) -> None:
        # Only the import itself is stopped this way: a forked child or another
        # thread that ends itself must end for real.
        if (os.getpid(), threading.get_ident()) == importer:
            raise StoppedAtImport("exit", _caller_line())
        real_exit(status)

    patches = [
        (uvicorn, "run", stop("server_start")),
        (uvicorn.Server, "run", stop("server_start")),
        (uvicorn.Server, "serve", stop("server_start")),
        (builtins, "input", stop("input")),
        (os, "_exit", exit_now),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
        # Nobody can type while the server runs either; reading stdin would also
        # take the bytes the host uses to say grading is over.
        builtins.input = _no_keyboard


def _no_keyboard(*_args: object, **_kwargs: object) -> NoReturn:
    raise EOFError("input() has nobody to read from while the grader runs the app")


def _describe(value: object) -> str:
    if isinstance(value, type):
        return f"a class ({value.__name__})"
    if inspect.isfunction(value) or inspect.ismethod(value):
        params = len(inspect.signature(value).parameters)
        kind = "an async function" if inspect.iscoroutinefunction(value) else "a plain (not async) function"
        return f"{kind} taking {params} argument{'s' if params != 1 else ''}"
    if isinstance(value, types.ModuleType):
        return f"a module ({value.__name__})"
    return f"a {type(value).__name__} value"


def _looks_asgi(value: object) -> bool:
    """ASGI 3: an async callable taking (scope, receive, send)."""
    if isinstance(value, (type, types.ModuleType)):
        return False
    if not callable(value):
        return False
    target = value if inspect.isfunction(value) or inspect.ismethod(value) else getattr(value, "__call__", None)  # noqa: B004 - the bound method ASGI calls
    if target is None:
        return False
    if not inspect.iscoroutinefunction(target):
        return False
    try:
        params = [
            p
            for p in inspect.signature(target).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
        variadic = any(p.kind == p.VAR_POSITIONAL for p in inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        return True  # Cannot inspect: let the server try it.
    return len(params) == 3 or (variadic and len(params) <= 3)


def _category(value: object, wsgi: bool) -> str:
    if wsgi:
        return "wsgi"
    if isinstance(value, type):
        return "class"
    if isinstance(value, types.ModuleType):
        return "module"
    if inspect.isfunction(value) or inspect.ismethod(value):
        return "function"
    return "value"


def _wsgi_like(value: object) -> bool:
    return type(value).__name__ in {"Flask", "Bottle"} or (
        callable(value) and not _looks_asgi(value) and _param_count(value) == 2
    )


def _param_count(value: Callable[..., object]) -> int:
    try:
        return len(inspect.signature(value).parameters)
    except (TypeError, ValueError):
        return -1


def _load(source: str, entry: str, status: Status) -> ASGIApplication | None:
    """The application object, or None after reporting why not."""
    linecache.cache[FILE_NAME] = (len(source), None, source.splitlines(True), FILE_NAME)
    try:
        code = compile(source, FILE_NAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        status.send(
            "error",
            kind="syntax",
            message=_syntax_message(exc),
            cause="syntax",
            line=exc.lineno,
            detail=str(exc.msg)[:DETAIL_CHARS],
        )
        return None
    except ValueError as exc:  # e.g. source with NUL bytes
        status.send("error", kind="syntax", message=f"{FILE_NAME}: {exc}", cause="syntax")
        return None
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = FILE_NAME
    sys.modules[MODULE_NAME] = module
    try:
        with _guarded_import():
            exec(code, module.__dict__)
    except StoppedAtImport as exc:
        kind = "exit" if exc.cause == "exit" else "import"
        messages = {
            "server_start": "the file starts a server while it is being loaded, so loading never finishes",
            "input": "the file asks for keyboard input while it is being loaded, and nobody can type during grading",
            "exit": "the file ended the program while it was being loaded, so the server never started",
        }
        where = f" (line {exc.line})" if exc.line else ""
        status.send("error", kind=kind, message=messages[exc.cause] + where, cause=exc.cause, line=exc.line)
        return None
    except SystemExit as exc:
        status.send(
            "error",
            kind="exit",
            message=f"the file called exit({exc.code!r}) while being loaded, so the server never started",
            cause="exit",
            line=_learner_line(exc),
        )
        return None
    except BaseException as exc:  # noqa: BLE001 - any failure at import is the learner's to see
        status.send("error", kind="import", message=_import_error_message(exc), **_import_error_facts(exc))
        return None
    if not hasattr(module, entry):
        found = [name for name, value in vars(module).items() if not name.startswith("_") and _looks_asgi(value)]
        if found:
            names = ", ".join(f"`{name}`" for name in found)
            message = f"no `{entry}` found; found {names}: the exercise needs the application to be called `{entry}`"
        else:
            message = f"no `{entry}` found: define the application at module level, e.g. `{entry} = FastAPI()`"
        status.send("error", kind="no_app", message=message, cause="no_app", names=found[:5])
        return None
    app = getattr(module, entry)
    if not _looks_asgi(app):
        what = _describe(app)
        wsgi = _wsgi_like(app)
        extra = " It looks like a WSGI application; the exercise needs an ASGI one such as FastAPI()." if wsgi else ""
        status.send(
            "error",
            kind="not_asgi",
            message=f"`{entry}` is {what}, not an ASGI application (an async callable taking scope, receive and send).{extra}",
            cause="not_asgi",
            what=_category(app, wsgi),
            detail=(app.__name__ if isinstance(app, type) else type(app).__name__)[:DETAIL_CHARS],
        )
        return None
    return cast("ASGIApplication", app)


class RequestWatch:
    """The HTTP request being handled now (the grader sends one at a time) and a thread that samples it.

    The ASGI wrapper of ``watched`` marks a request's start and end; the watchdog
    thread finds, for a request running past ``STALL_SECONDS``, the innermost line
    of the submission on its task's stack (an async endpoint, running or awaiting)
    or else on any other thread's (a plain endpoint runs in a worker thread), and
    sends it as a ``stall`` event.
    """

    def __init__(self, status: Status) -> None:
        self._status = status
        self._lock = threading.Lock()
        self._number = 0
        self._current: tuple[int, float, asyncio.Task[object] | None] | None = None
        self._loop_thread: int | None = None
        self._sent = 0

    def watched(self, app: ASGIApplication) -> ASGIApplication:
        """``app`` with every HTTP request marked while it runs."""
        inner = cast("Callable[[dict[str, object], object, object], Awaitable[None]]", app)

        async def asgi(scope: dict[str, object], receive: object, send: object) -> None:
            if scope.get("type") != "http":
                await inner(scope, receive, send)
                return
            number = self._begin()
            try:
                await inner(scope, receive, send)
            finally:
                self._end(number)

        return cast("ASGIApplication", asgi)

    def _begin(self) -> int:
        with self._lock:
            self._number += 1
            self._current = (self._number, time.monotonic(), asyncio.current_task())
            self._loop_thread = threading.get_ident()
            return self._number

    def _end(self, number: int) -> None:
        with self._lock:
            if self._current is not None and self._current[0] == number:
                self._current = None

    def start(self) -> None:
        """Start the watchdog thread (a daemon: it ends with the server)."""
        threading.Thread(target=self._run, name="request-watchdog", daemon=True).start()

    def _run(self) -> None:
        while self._sent < MAX_STALL_EVENTS:
            time.sleep(STALL_SAMPLE_SECONDS / 2)
            with self._lock:
                current = self._current
            if current is None:
                continue
            number, began, task = current
            elapsed = time.monotonic() - began
            if elapsed < STALL_SECONDS:
                continue
            # The loop's own thread first (an async endpoint that blocks it), then the request's
            # task (an async endpoint awaiting), then the others (a plain endpoint's worker thread).
            frame = (
                _thread_learner_frame(only=self._loop_thread) or _task_learner_frame(task) or _thread_learner_frame()
            )
            if frame is not None:
                line, function = frame
                self._status.send("stall", request=number, seconds=round(elapsed, 2), line=line, function=function)
                self._sent += 1
            time.sleep(STALL_SAMPLE_SECONDS / 2)


def _task_learner_frame(task: asyncio.Task[object] | None) -> tuple[int, str] | None:
    """The innermost frame of the submission among the coroutines the task awaits through.

    ``Task.get_stack`` gives a suspended task's outermost frame only, so the chain of
    awaited coroutines is followed here, each one's frame kept.
    """
    if task is None:
        return None
    frames: list[types.FrameType] = []
    awaited: object = task.get_coro()
    for _ in range(MAX_AWAIT_DEPTH):
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if isinstance(frame, types.FrameType):
            frames.append(frame)
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        if awaited is None:
            break
    return _innermost(frames)


def _thread_learner_frame(only: int | None = None) -> tuple[int, str] | None:
    """The innermost frame of the submission on a thread's stack: thread ``only``, else any but this one."""
    me = threading.get_ident()
    for ident, top in sys._current_frames().items():
        if ident == me or (only is not None and ident != only):
            continue
        stack = []
        frame: types.FrameType | None = top
        while frame is not None:
            stack.append(frame)
            frame = frame.f_back
        found = _innermost(list(reversed(stack)))
        if found is not None:
            return found
    return None


def _innermost(frames: list[types.FrameType]) -> tuple[int, str] | None:
    """(line, function) of the last frame in ``frames`` (outermost first) that is in the submission."""
    found = None
    for frame in frames:
        if frame.f_code.co_filename == FILE_NAME:
            found = (frame.f_lineno, frame.f_code.co_name)
    return found


def _serve(app: ASGIApplication, listen_fd: int, status: Status) -> int:
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                status.send("ready")

        async def main_loop(self) -> None:
            # Like uvicorn's loop, but wakes as soon as the host hangs up, so the
            # shutdown (lifespan included) starts at once instead of at the next tick.
            host_gone = asyncio.Event()
            loop = asyncio.get_running_loop()
            _on_host_hangup(lambda: loop.call_soon_threadsafe(host_gone.set))
            while not self.should_exit and not host_gone.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(host_gone.wait(), timeout=0.1)

    watch = RequestWatch(status)
    config = uvicorn.Config(
        watch.watched(app),
        fd=listen_fd,
        lifespan="auto",
        log_level="warning",
        access_log=False,
        loop="asyncio",
        http="h11",
        ws="none",
        interface="asgi3",
        proxy_headers=False,
        server_header=False,
        date_header=False,
        timeout_graceful_shutdown=1,
    )
    server = Server(config)
    watch.start()
    server.run()
    if not server.started:
        status.send(
            "error",
            kind="crash",
            message="the server stopped during start-up: the application's lifespan start-up failed (see the error output)",
            cause="lifespan",
        )
        return 3
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--status-fd", type=int, required=True)
    parser.add_argument("--entry", default="app")
    args = parser.parse_args()
    status = Status(args.status_fd)
    _preimport()
    status.send("waiting")
    source = _read_source()
    app = _load(source, args.entry, status)
    if app is None:
        return 2
    status.send("loaded")
    return _serve(app, args.listen_fd, status)


if __name__ == "__main__":
    code = main()
    # Skip interpreter finalization: the sandbox is about to be torn down anyway.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
