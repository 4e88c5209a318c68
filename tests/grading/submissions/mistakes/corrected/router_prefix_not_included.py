from fastapi import APIRouter, FastAPI

messages = APIRouter(prefix="/message")


@messages.post("")
async def create(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(messages)
