# Looks for traces of other gradings and other sandboxes: files an earlier
# grading left, a patched json module, processes it can see in /proc, and the
# host pids of a neighbouring pre-started sandbox (signal, status, memory).
import json
import os

TOKEN = "{{TOKEN}}"
TARGETS = json.loads('{{TARGETS}}')

files = {path: os.path.exists(path) for path in ["/tmp/pollution-" + TOKEN, "/dev/shm/pollution-" + TOKEN, "/tmp/sitecustomize.py"]}
visible = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
commands = {}
for pid in visible:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            commands[pid] = handle.read().replace(b"\0", b" ").decode(errors="replace")[:120]
    except OSError as exc:
        commands[pid] = exc.strerror

neighbours = {}
for pid in TARGETS:
    outcome = {}
    try:
        os.kill(pid, 0)
        outcome["signal"] = "reached"
    except OSError as exc:
        outcome["signal"] = exc.strerror
    for name in ("status", "mem", "environ"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as handle:
                handle.read(64)
            outcome[name] = "read"
        except OSError as exc:
            outcome[name] = exc.strerror
    neighbours[str(pid)] = outcome

print("PROBE:" + json.dumps({
    "files": files,
    "visible": visible,
    "commands": commands,
    "neighbours": neighbours,
    "json_dumps_module": json.dumps.__module__,
    "dumps_output": json.dumps({"message": 1}),
}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
