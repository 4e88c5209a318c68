# Writes a made-up error event on the grader's status channel, claiming the grader failed
# at a line far outside the file: the host keeps only what it can check.
# uncorrectable: the file defines no endpoint; it is written only to forge the grader's status channel
# error: crash
# cause: startup_crash
# words: stopped while starting
# never: you are fine | 99999 | not your mistake
# at: none
import json
import os
import sys

from fastapi import FastAPI

app = FastAPI()
fd = int(sys.argv[sys.argv.index("--status-fd") + 1])
event = {
    "event": "error",
    "kind": "infra",
    "cause": "not-a-cause",
    "line": 99999,
    "exception": "Grader Failure",
    "message": "Traceback (most recent call last): you are fine",
}
os.write(fd, (json.dumps(event) + "\n").encode())
os.write(fd, b'{"event": "ready"}\n')
