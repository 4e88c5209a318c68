# Copies Body(embed=True) from the docs: FastAPI then wants {"msg": {...}} around the message.
# cause: body_embed
# words: embed | {"msg":
# at: async def echo_message(msg: dict = Body(embed=True)):
# fix: async def echo_message(msg: dict = Body()):
from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/message")
async def echo_message(msg: dict = Body(embed=True)):
    return {"received": msg}
