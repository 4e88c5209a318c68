# Reads the request as a form: the runtime has no form parser, and the grader sends JSON anyway.
# cause: form_parameter
# words: form | `msg: dict`
# at: form = await request.form()
from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/message")
async def receive_message(request: Request):
    form = await request.form()
    return {"received": dict(form)}
