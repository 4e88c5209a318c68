# Plants symlinks and sockets wherever the grader's socket could be, all pointing at
# a host socket the test listens on; if the grader followed any of them, that host
# socket would get a connection. Then serves a correct app on the real socket.
import errno
import json
import os
import socket

BAIT = "{{BAIT}}"
results = {"fds": {}}
for fd in os.listdir("/proc/self/fd"):
    try:
        results["fds"][fd] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
candidates = ["/tmp/app.sock", "/tmp/grader.sock", "/tmp/socket", "/tmp/uvicorn.sock", "/app.sock", "/run/app.sock"]
with open("/proc/self/mountinfo") as handle:
    for line in handle:
        for word in line.split():
            if word.startswith("/") and ("sock" in word or "grader" in word):
                candidates.append(word)
                candidates.append(os.path.join(word, "app.sock"))
for path in candidates:
    try:
        if os.path.lexists(path):
            os.remove(path)
        os.symlink(BAIT, path)
        results[path] = "planted"
    except OSError as exc:
        results[path] = errno.errorcode.get(exc.errno, str(exc.errno))
# A listening socket of its own at a likely path, in case the host connects by name.
try:
    decoy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    decoy.bind("/tmp/decoy.sock")
    decoy.listen(1)
    results["decoy"] = "listening"
except OSError as exc:
    results["decoy"] = errno.errorcode.get(exc.errno, str(exc.errno))
print("PROBE:" + json.dumps(results), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
