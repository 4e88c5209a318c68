from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def reply(body: dict):
    return {"received": body}
