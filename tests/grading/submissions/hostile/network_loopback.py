# Tries to reach a listener the host opened on its loopback, by TCP and UDP,
# at import and again from the handler; and looks at the network namespace it is
# in (interfaces, and whether the host's listening port shows in /proc/net/tcp).
import errno
import json
import socket

PORT = int("{{PORT}}")


def attempts():
    results = {}
    for host in ("127.0.0.1", "localhost"):
        try:
            with socket.create_connection((host, PORT), timeout=1) as conn:
                conn.sendall(b"hostile hello\n")
            results[f"tcp {host}"] = "connected"
        except OSError as exc:
            results[f"tcp {host}"] = errno.errorcode.get(exc.errno, repr(exc)) if exc.errno else repr(exc)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"hostile hello\n", ("127.0.0.1", PORT))
        results["udp 127.0.0.1"] = "sent"
    except OSError as exc:
        results["udp 127.0.0.1"] = errno.errorcode.get(exc.errno, repr(exc))
    return results


def proc_net():
    with open("/proc/net/dev") as handle:
        interfaces = [line.split(":")[0].strip() for line in handle.readlines()[2:]]
    port_hex = f":{PORT:04X}"
    with open("/proc/net/tcp") as handle:
        sees_port = any(port_hex in line.split()[1] for line in handle.readlines()[1:])
    return interfaces, sees_port


at_import = attempts()
interfaces, sees_port = proc_net()
print("PROBE:" + json.dumps({"import": at_import, "interfaces": interfaces, "sees_host_port": sees_port}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
def receive_message(msg: dict):
    print("PROBE-HANDLER:" + json.dumps(attempts()), flush=True)
    return {"received": msg}
