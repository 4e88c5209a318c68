# A router with the path as its prefix, never included in the app.
# cause: router_not_included
# words: `app.include_router(messages)`
# at: messages = APIRouter(prefix="/message")
from fastapi import APIRouter, FastAPI

messages = APIRouter(prefix="/message")


@messages.post("")
async def create(msg: dict):
    return {"received": msg}


app = FastAPI()
