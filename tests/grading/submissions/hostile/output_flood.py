# Writes 1 GB to stdout and 1 GB to stderr at import, then serves a correct app.
import os
import threading

CHUNK = b"flood " * (1 << 17)  # 768 KB
ROUNDS = (1 << 30) // len(CHUNK)


def flood(fd):
    for _ in range(ROUNDS):
        os.write(fd, CHUNK)


side = threading.Thread(target=flood, args=(2,))
side.start()
flood(1)
side.join()

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
