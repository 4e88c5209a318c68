from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/message")
async def echo_message(msg: dict = Body()):
    return {"received": msg}
