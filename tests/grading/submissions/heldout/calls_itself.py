# The endpoint has the same name as the helper it calls, so it calls itself for ever.
# cause: recursion
# words: RecursionError | `reply`
# at: return reply(msg)
def reply(msg):
    return {"received": msg}


from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def reply(msg: dict):
    return reply(msg)
