# Looks for the host's secrets: planted canary files, the repository, the service's
# state, /etc/shadow, root's home, and every environment it can find through /proc.
# The canaries are given reversed, so their plain text never appears in this file.
import errno
import json
import os

FILE_CANARY = "{{FILE_CANARY_REVERSED}}"[::-1]
ENV_CANARY = "{{ENV_CANARY_REVERSED}}"[::-1]
PATHS = json.loads('{{PATHS}}')
results = {}
found_canary = []


def look(label, path):
    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 20)
    except OSError as exc:
        results[label] = errno.errorcode.get(exc.errno, str(exc.errno))
        return
    results[label] = f"read {len(data)} bytes"
    for name, canary in (("file", FILE_CANARY), ("env", ENV_CANARY)):
        if canary.encode() in data:
            found_canary.append(f"{name} canary in {path}")


for path in PATHS:
    look(path, path)
for path in ["/etc/shadow", "/etc/passwd", "/root/.bashrc", "/root/.profile", "/proc/1/root/etc/shadow",
             "/proc/1/environ", "/proc/self/environ", "/proc/1/cmdline", "/proc/self/mountinfo"]:
    look(path, path)
for entry in os.listdir("/proc"):
    if entry.isdigit():
        look(f"/proc/{entry}/environ", f"/proc/{entry}/environ")
if ENV_CANARY in json.dumps(dict(os.environ)):
    found_canary.append("env canary in os.environ")
# Everything visible outside the read-only system and runtime folders.
for top in ["/", "/tmp", "/dev", "/run", "/var", "/home", "/root", "/etc", "/work", "/srv", "/opt"]:
    try:
        results["list " + top] = sorted(os.listdir(top))[:40]
    except OSError as exc:
        results["list " + top] = errno.errorcode.get(exc.errno, str(exc.errno))
for dirpath, dirnames, filenames in os.walk("/"):
    if dirpath in ("/proc", "/sys", "/usr", "/opt/runtime"):
        dirnames[:] = []
        continue
    for name in filenames:
        path = os.path.join(dirpath, name)
        if os.path.isfile(path) and not os.path.islink(path):
            look("walk " + path, path)
print("PROBE:" + json.dumps({"results": {k: v for k, v in results.items() if not k.startswith("walk ")},
                              "walked": sum(k.startswith("walk ") for k in results),
                              "found_canary": found_canary, "environ_keys": sorted(os.environ)}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg, "env": dict(os.environ)}
