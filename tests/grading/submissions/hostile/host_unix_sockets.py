# Tries to connect to host Unix sockets: a listener the host opened for this test,
# the database servers' sockets, anything found under /run, /var/run and /tmp, and
# an abstract-namespace socket.
import errno
import glob
import json
import socket
import stat
import os

TARGETS = json.loads('{{TARGETS}}')
ABSTRACT = "{{ABSTRACT}}"
for pattern in ["/run/*", "/run/*/*", "/var/run/*", "/var/run/*/*", "/tmp/*", "/tmp/*/*"]:
    for path in glob.glob(pattern):
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                TARGETS.append(path)
        except OSError:
            pass
results = {}
for path in TARGETS + ["\0" + ABSTRACT]:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(1)
            conn.connect(path)
            conn.sendall(b"hostile hello\n")
        results[repr(path)] = "connected"
    except OSError as exc:
        results[repr(path)] = errno.errorcode.get(exc.errno, repr(exc)) if exc.errno else repr(exc)
print("PROBE:" + json.dumps({"results": results}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
