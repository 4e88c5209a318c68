# Tries to write everywhere: the repository, the runtime, the system, and then fills /tmp.
import errno
import json
import os

REPO = "{{REPO}}"
results = {}


def attempt(label, action):
    try:
        action()
        results[label] = "written"
    except OSError as exc:
        results[label] = errno.errorcode.get(exc.errno, str(exc.errno))


def create(path):
    with open(path, "w") as handle:
        handle.write("hostile was here\n")


def append(path):
    with open(path, "a") as handle:
        handle.write("\n# hostile was here\n")


for path in [
    f"{REPO}/hostile.txt", f"{REPO}/exercises/hostile.txt", f"{REPO}/.state/hostile.txt", "/opt/runtime/hostile.txt",
    "/opt/runtime/lib/hostile.txt", "/usr/hostile.txt", "/usr/lib/hostile.txt", "/hostile.txt", "/etc/hostile.txt",
    "/var/tmp/hostile.txt", "/root/hostile.txt", "/home/hostile.txt", "/dev/hostile", "/opt/hostile.txt",
    "/proc/hostile", "/run/hostile",
]:
    attempt("create " + path, lambda p=path: create(p))
for path in [
    f"{REPO}/grader/grading/runner.py", f"{REPO}/exercises/message-echo/exercise.toml", "/opt/runtime/boot.py",
    "/opt/runtime/lib/python3.11/site-packages/fastapi/__init__.py", "/opt/runtime/pyvenv.cfg", "/usr/lib/python3.11/os.py",
]:
    attempt("append " + path, lambda p=path: append(p))
attempt("mkdir /opt/runtime/lib/python3.11/site-packages/evil", lambda: os.mkdir("/opt/runtime/lib/python3.11/site-packages/evil"))
attempt("chmod /opt/runtime", lambda: os.chmod("/opt/runtime", 0o777))
attempt("rename /opt/runtime/boot.py", lambda: os.rename("/opt/runtime/boot.py", "/opt/runtime/boot.bak"))


def fill(path, chunk_bytes, limit_bytes):
    """Write chunk by chunk until an error; return (bytes written, error)."""
    written = 0
    try:
        with open(path, "wb") as handle:
            while written < limit_bytes:
                handle.write(b"\0" * chunk_bytes)
                handle.flush()
                written += chunk_bytes
    except OSError as exc:
        return written, errno.errorcode.get(exc.errno, str(exc.errno))
    return written, None


# One big file: the file-size limit should stop it.
big = fill("/tmp/big", 256 * 1024, 64 << 20)
# Many files just under the file-size limit: the tmpfs size should stop them.
tmpfs_total, tmpfs_error = 0, None
for index in range(64):
    size, tmpfs_error = fill(f"/tmp/part{index}", 128 * 1024, 896 * 1024)
    tmpfs_total += size
    if tmpfs_error:
        break
shm = fill("/dev/shm/big", 128 * 1024, 64 << 20)
statvfs = os.statvfs("/tmp")
print("PROBE:" + json.dumps({
    "results": results,
    "tmp_big": big,
    "tmpfs_total": tmpfs_total,
    "tmpfs_error": tmpfs_error,
    "shm": shm,
    "tmp_size": statvfs.f_blocks * statvfs.f_frsize,
}), flush=True)
for index in range(64):
    try:
        os.remove(f"/tmp/part{index}")
    except OSError:
        pass

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
