# Hands the dict to a plain `Response`, which sends only text or bytes.
# cause: crash
# words: `Response` | text or bytes | `return {"received": msg}`
# at: return Response(
# never: msg["encode"]
# fix: return {"received": msg}
from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(content={"received": msg}, media_type="application/json")
