from fastapi import FastAPI

app = FastAPI()

@app.post("/message")
def echo(data: dict):
    return {"received": data}
