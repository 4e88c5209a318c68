# The router's prefix already says /message, and the route says it again.
# cause: wrong_path
# words: /message/message | prefix
# at: @router.post("/message")
from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/message", tags=["messages"])


@router.post("/message")
async def post_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router)
