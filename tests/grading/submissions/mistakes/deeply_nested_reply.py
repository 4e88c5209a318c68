# Answers with JSON nested far deeper than any reader allows: the grader must judge it
# as a wrong reply, never fail itself (which would not count against the learner).
# cause: not_json
# words: nested too deeply
# at: return Response(
from fastapi import FastAPI
from fastapi.responses import Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response("[" * 20_000 + "]" * 20_000, media_type="application/json")
