# Looks for files an earlier grading left in /tmp and /dev/shm, then leaves its own.
import json
import os

PATHS = ["/tmp/leftover-{{TOKEN}}", "/dev/shm/leftover-{{TOKEN}}", "/tmp/.hidden-{{TOKEN}}/note"]
seen = {path: os.path.exists(path) for path in PATHS}
left = {}
for path in PATHS:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("left behind\n")
        left[path] = True
    except OSError:
        left[path] = False
print("PROBE:" + json.dumps({"seen": seen, "left": left}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
