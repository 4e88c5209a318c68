from fastapi import APIRouter, FastAPI

router = APIRouter(prefix="/message", tags=["messages"])


@router.post("")
async def post_message(msg: dict):
    return {"received": msg}


app = FastAPI()
app.include_router(router)
