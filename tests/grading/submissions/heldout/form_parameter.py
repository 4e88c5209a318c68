# Reads the text as a form field, as in the forms tutorial.
# error: import
# cause: form_parameter
# words: Form | msg: dict
# at: text: str = Form(...)
from fastapi import FastAPI, Form

app = FastAPI()


@app.post("/message")
async def receive_message(
    text: str = Form(...),
):
    return {"received": {"text": text}}
