from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/message")


@router.post("")
async def receive_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router)
