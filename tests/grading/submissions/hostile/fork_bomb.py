# Forks until the kernel says no; every child forks once more and sleeps forever.
# Bounded (at most 300 + 300 processes) so that even an unconfined run cannot take the machine down.
import json
import os
import time

forked = 0
error = None
for _ in range(300):
    try:
        pid = os.fork()
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc.strerror}"
        break
    if pid == 0:
        try:
            os.fork()
        except OSError:
            pass
        while True:
            time.sleep(1000)
    forked += 1
print("PROBE:" + json.dumps({"forked": forked, "error": error}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
