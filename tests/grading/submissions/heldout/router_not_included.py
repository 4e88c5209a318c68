# Puts the route on an APIRouter, as the bigger-applications tutorial does, and never includes it.
# cause: router_not_included
# words: `app.include_router(router)`
# at: router = APIRouter()
from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()


@router.post("/message")
def message(msg: dict):
    return {"received": msg}
