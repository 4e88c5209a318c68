# Includes the router under a version prefix, so the route is /v1/message.
# cause: wrong_path
# words: /v1/message | prefix
# at: app.include_router(router, prefix="/v1")
# fix: app.include_router(router)
from fastapi import APIRouter, FastAPI

router = APIRouter()


@router.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router, prefix="/v1")
