# Asks for input inside the endpoint: nobody can type while the grader runs the app.
# cause: crash
# words: EOFError | Nobody types
# at: text = input(
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict):
    text = input("Reply: ")
    return {"received": {"text": text}}
