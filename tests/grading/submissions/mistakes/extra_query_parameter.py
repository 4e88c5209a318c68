# Adds a second parameter for who sent the message: FastAPI reads it from the query string, which is empty, and refuses every request.
# cause: query_parameter
# words: `user` | query | Remove the parameter `user`
# never: `user: dict`
# at: async def receive_message(msg: dict, user: str):
# fix: async def receive_message(msg: dict):
from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
async def receive_message(msg: dict, user: str):
    print("message from", user)
    return {"received": msg}
