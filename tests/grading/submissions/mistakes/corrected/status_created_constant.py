from fastapi import FastAPI, status

app = FastAPI()


@app.post(
    "/message",
)
async def receive_message(msg: dict):
    return {"received": msg}
