# Writes a GET endpoint that takes the text from the query string, as the first tutorial page did.
# cause: wrong_method
# words: `@app.post("/message")` | GET
# at: @app.get("/message")
from fastapi import FastAPI

app = FastAPI()


@app.get("/message")
def read_message(text: str = ""):
    return {"received": {"text": text}}
