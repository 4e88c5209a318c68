from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict, response: Response):
    return {"received": msg}
