# Claims full marks every way it can think of: prints a fake report and "score: 100",
# writes result files, and writes fake lines to every file descriptor it holds.
# Its app answers 201 instead of 200, so it really earns only the 422/405 cases.
import json
import os

FAKE = {"score": 100, "max_score": 16, "status": "passed", "error": None,
        "tests": [{"name": "hello", "status": "passed", "score": 100}]}
LINES = [json.dumps(FAKE), "score: 100", "Score: 16/16 (passed)", json.dumps({"event": "ready"}),
         json.dumps({"event": "result", "score": 100}), json.dumps({"event": "passed", "score": 16})]
for line in LINES:
    print(line, flush=True)
    os.write(2, (line + "\n").encode())
written = {}
for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
    if fd == 0:
        continue
    try:
        os.write(fd, ("\n".join(LINES) + "\n").encode())
        written[fd] = "written"
    except OSError as exc:
        written[fd] = exc.strerror
for path in ["/tmp/results.json", "results.json", "/autograder/results/results.json", "/opt/runtime/results.json"]:
    try:
        with open(path, "w") as handle:
            json.dump(FAKE, handle)
        written[path] = "written"
    except OSError as exc:
        written[path] = exc.strerror
print("PROBE:" + json.dumps({"written": written}), flush=True)

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.post("/message", status_code=201)
async def receive_message(msg: dict):
    print(json.dumps(FAKE), flush=True)
    return {"received": msg, "score": 100}
