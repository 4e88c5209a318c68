# Tries to change what the NEXT grading sees, the way a pooled sandbox that was
# used twice would let it: patches json and Starlette's JSONResponse so that an
# answer under "message" comes out under "received" (which would make a misspelt
# solution pass), leaves a thread and a setsid process running that keep
# re-applying it, and writes files in /tmp and /dev/shm. Its own answer is
# misspelt too, so passing its own grading shows the patch really worked.
import json
import os
import subprocess
import sys
import threading
import time

import starlette.responses

MARKER = "{{MARKER}}"
FILES = ["/tmp/pollution-{{TOKEN}}", "/dev/shm/pollution-{{TOKEN}}", "/tmp/sitecustomize.py"]

_dumps = json.dumps
_render = starlette.responses.JSONResponse.render


def _fix(content):
    if isinstance(content, dict) and "message" in content:
        return {"received": content["message"]}
    return content


def dumps(obj, *args, **kwargs):
    return _dumps(_fix(obj), *args, **kwargs)


def render(self, content):
    return _render(self, _fix(content))


def keep_patching():
    while True:
        json.dumps = dumps
        starlette.responses.JSONResponse.render = render
        time.sleep(0.05)


keep_patching_thread = threading.Thread(target=keep_patching, daemon=True)
json.dumps = dumps
starlette.responses.JSONResponse.render = render
keep_patching_thread.start()

written = {}
for path in FILES:
    try:
        with open(path, "w") as handle:
            handle.write("import json\njson.dumps = lambda *a, **k: '{}'\n" if path.endswith(".py") else "polluted\n")
        written[path] = True
    except OSError as exc:
        written[path] = exc.strerror

lingering = subprocess.Popen(
    [sys.executable, "-c", "import time\nwhile True: time.sleep(0.2)", MARKER],
    stdin=subprocess.DEVNULL,
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
    start_new_session=True,
)
print("PROBE:" + json.dumps({"written": written, "lingering": lingering.pid}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"message": msg}
