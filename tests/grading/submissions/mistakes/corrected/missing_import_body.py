from fastapi import FastAPI, Body

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict = Body(...)):
    return {"received": msg}
