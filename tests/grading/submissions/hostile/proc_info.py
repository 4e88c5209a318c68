# Reads what /proc shows about the sandbox and its host: PID 1's command line and
# environment, the mount table, its own uid map and the hostname.
import json
import os
import socket


def read(path, limit=600):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).replace(b"\0", b" ").decode(errors="replace")
    except OSError as exc:
        return f"error {exc.errno}"


print("PROBE:" + json.dumps({
    "pid1_cmdline": read("/proc/1/cmdline"),
    "pid1_environ": read("/proc/1/environ"),
    "self_environ": read("/proc/self/environ"),
    "mountinfo": read("/proc/self/mountinfo", 2000),
    "uid_map": read("/proc/self/uid_map"),
    "hostname": socket.gethostname(),
    "uid": os.getuid(),
}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
