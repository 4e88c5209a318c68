"""The endpoint lives on an APIRouter that the app includes."""

from fastapi import APIRouter, FastAPI

router = APIRouter(tags=["messages"])


@router.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router)
