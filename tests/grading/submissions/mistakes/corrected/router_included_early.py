from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@router.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


app.include_router(router)
