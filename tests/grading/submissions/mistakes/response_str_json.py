# Writes the reply with str() into a Response labelled JSON: Python's quotes are not JSON.
# cause: not_json
# words: not JSON | `str(`
# at: return Response(content=str({"received": msg}), media_type="application/json")
# fix: return {"received": msg}
from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    return Response(content=str({"received": msg}), media_type="application/json")
