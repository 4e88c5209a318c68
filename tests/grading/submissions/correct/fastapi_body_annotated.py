"""The body declared explicitly with Annotated[..., Body()]."""

from typing import Annotated, Any

from fastapi import Body, FastAPI

app = FastAPI()


@app.post("/message", status_code=200)
async def receive_message(msg: Annotated[dict[str, Any], Body()]) -> dict[str, dict[str, Any]]:
    return {"received": msg}
