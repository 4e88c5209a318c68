# Declares the text as a Form field, as the forms tutorial does.
# error: import
# cause: form_parameter
# words: Form | `msg: dict`
# at: def send(text: str = Form()):
from fastapi import FastAPI, Form

app = FastAPI()


@app.post("/message")
def send(text: str = Form()):
    return {"received": {"text": text}}
