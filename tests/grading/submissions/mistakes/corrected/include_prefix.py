from fastapi import APIRouter, FastAPI

router = APIRouter()


@router.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router)
