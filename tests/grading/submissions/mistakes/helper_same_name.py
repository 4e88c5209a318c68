# Names the endpoint like the helper defined above it, so the endpoint's call goes to itself.
# cause: recursion
# words: RecursionError | `format_reply`
# at: return format_reply(body)
def format_reply(body):
    """wrap the body the way the exercise wants"""
    return {"received": body}


from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def format_reply(body: dict):
    return format_reply(body)
