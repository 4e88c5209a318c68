# A right answer whose file also writes garbage on the grader's status channel while it
# loads (a line nested too deep for a JSON reader among it): the grading carries on.
import os
import sys

from fastapi import FastAPI

fd = int(sys.argv[sys.argv.index("--status-fd") + 1])
os.write(fd, b"not json\n" + b"[" * 50_000 + b"]" * 50_000 + b"\n" + b'{"event": 1}\n')

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
