from fastapi import FastAPI

app = FastAPI()

@app.post("/message")
def handle(message: dict):
    # message is the text the user sent
    return {"received": message}
