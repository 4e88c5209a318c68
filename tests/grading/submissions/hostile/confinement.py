# Reports the confinement it finds itself in, as the host could compare it between two
# ways of starting a sandbox: mounts, hostname, environment, folder, limits, privileges.
import json
import os
import resource
import socket


def mounts():
    """The mount on top at each mount point (a later line covers an earlier one at the same place)."""
    found = {}
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            separator = fields.index("-")
            options = set(fields[5].split(",")) & {"ro", "rw", "nosuid", "nodev", "noexec"}
            super_options = {
                option for option in fields[separator + 3].split(",")
                if option.split("=")[0] in ("size", "mode", "max", "ptmxmode", "newinstance")
            }
            found[fields[4]] = [fields[separator + 1], sorted(options), sorted(super_options)]
    return found


def status(*keys):
    values = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in keys:
                values[key] = value.strip()
    return values


limits = {
    name: resource.getrlimit(getattr(resource, name))
    for name in ("RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE", "RLIMIT_AS", "RLIMIT_MEMLOCK", "RLIMIT_NPROC")
}
print("PROBE:" + json.dumps({
    "mounts": mounts(),
    "hostname": socket.gethostname(),
    "environ": dict(os.environ),
    "cwd": os.getcwd(),
    "limits": limits,
    "status": status("NoNewPrivs", "Seccomp", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"),
    "sid_is_pid_1_session": os.getsid(0) == os.getsid(1) if os.path.exists("/proc/1") else None,
    "open_fds": len(os.listdir("/proc/self/fd")),
    "net": sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else None,
}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
