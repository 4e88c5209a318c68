# Tries to gain privileges: new user, mount and network namespaces, mounts, setuid,
# chroot, a nested bubblewrap, setuid-root programs; and reports its capabilities.
import ctypes
import errno
import json
import os
import subprocess

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWPID = 0x00020000, 0x10000000, 0x40000000, 0x20000000
libc = ctypes.CDLL(None, use_errno=True)
results = {}


def call(label, function, *args):
    if function(*args) == 0:
        results[label] = "ok"
    else:
        results[label] = errno.errorcode.get(ctypes.get_errno(), "?")


def run(label, argv):
    try:
        done = subprocess.run(argv, capture_output=True, timeout=5)
        results[label] = f"exit {done.returncode}: {done.stderr.decode(errors='replace')[:120]}"
    except OSError as exc:
        results[label] = errno.errorcode.get(exc.errno, str(exc.errno))
    except subprocess.TimeoutExpired:
        results[label] = "timeout"


if os.fork() == 0:  # unshare in a child: a success must not change this process
    outcome = {}
    for name, flag in [("user", CLONE_NEWUSER), ("mount", CLONE_NEWNS), ("net", CLONE_NEWNET), ("pid", CLONE_NEWPID)]:
        outcome[name] = "ok" if libc.unshare(flag) == 0 else errno.errorcode.get(ctypes.get_errno(), "?")
    with open("/tmp/unshare.json", "w") as handle:
        json.dump(outcome, handle)
    os._exit(0)
os.wait()
with open("/tmp/unshare.json") as handle:
    results["unshare"] = json.load(handle)
os.makedirs("/tmp/mnt", exist_ok=True)
call("mount tmpfs", libc.mount, b"none", b"/tmp/mnt", b"tmpfs", 0, None)
call("remount / rw", libc.mount, b"none", b"/", None, 0x20 | 0x1000, None)  # MS_REMOUNT|MS_BIND
call("setuid 0", libc.setuid, 0)
call("chroot /tmp", libc.chroot, b"/tmp")
call("sethostname", libc.sethostname, b"pwned", 5)
run("nested bwrap", ["/usr/bin/bwrap", "--ro-bind", "/", "/", "/usr/bin/true"])
for program in ["/usr/bin/sudo", "/usr/bin/su", "/usr/bin/newuidmap", "/usr/bin/passwd"]:
    if os.path.exists(program):
        run(program, [program, "--help"] if program.endswith("passwd") else [program, "-c", "id"] if program.endswith("su") else [program, "-n", "id"])
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
results["status"] = {key: status[key].strip() for key in ("Uid", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp") if key in status}
results["uid_map"] = open("/proc/self/uid_map").read().split()
print("PROBE:" + json.dumps(results), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
