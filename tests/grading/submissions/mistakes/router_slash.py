# The router's prefix is /message and the route is "/", so the path ends with a slash.
# cause: redirect
# words: /message/ | slash
# at: @router.post("/")
# fix: @router.post("")
from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/message")


@router.post("/")
async def receive_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router)
