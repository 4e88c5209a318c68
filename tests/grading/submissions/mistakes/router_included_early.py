# Includes the router before the route is put on it: include_router copies the routes it has at that moment.
# cause: router_included_early
# words: `app.include_router(router)` | after
# at: app.include_router(router)
from fastapi import APIRouter, FastAPI

app = FastAPI()
router = APIRouter()
app.include_router(router)


@router.post("/message")
async def receive_message(msg: dict):
    return {"received": msg}
