from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@router.post("/message")
def message(msg: dict):
    return {"received": msg}


app.include_router(router)
