from fastapi import FastAPI, Body

app = FastAPI()


@app.post("/message")
def echo(payload: dict = Body(...)):
    return {"received": payload}
