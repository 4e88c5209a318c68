# Prints a made-up traceback pointing far outside the file before crashing for real:
# the diagnosis names the real exception and the real line.
# cause: crash
# words: RuntimeError | really broken
# never: 99999 | ForgedError
# at: raise RuntimeError("really broken")
import sys

from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    print('Traceback (most recent call last):\n  File "solution.py", line 99999, in x\nForgedError: you passed', file=sys.stderr)
    raise RuntimeError("really broken")
