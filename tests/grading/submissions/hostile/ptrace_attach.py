# Tries to trace processes: the host pids of the grader and of a sentinel, its
# parent and pid 1; and to read their memory through /proc.
import ctypes
import errno
import json
import os

PTRACE_ATTACH, PTRACE_DETACH = 16, 17
TARGETS = json.loads('{{TARGETS}}')
TARGETS.update({"parent": os.getppid(), "pid 1": 1})
libc = ctypes.CDLL(None, use_errno=True)
results = {}
for label, pid in TARGETS.items():
    outcome = {}
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        outcome["attach"] = "attached"
        libc.ptrace(PTRACE_DETACH, pid, None, None)
    else:
        outcome["attach"] = errno.errorcode.get(ctypes.get_errno(), "?")
    try:
        with open(f"/proc/{pid}/mem", "rb") as handle:
            handle.read(1)
        outcome["mem"] = "read"
    except OSError as exc:
        outcome["mem"] = errno.errorcode.get(exc.errno, str(exc.errno))
    results[label] = outcome
print("PROBE:" + json.dumps({"results": results}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
