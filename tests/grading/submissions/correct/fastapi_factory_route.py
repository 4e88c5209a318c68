"""A handler made by a factory, registered with add_api_route, with a dependency."""

from typing import Annotated

from fastapi import Depends, FastAPI


def reply_key() -> str:
    return "received"


def make_echo(default_key: str):
    async def echo(msg: dict, key: Annotated[str, Depends(reply_key)]) -> dict:
        return {key or default_key: msg}

    return echo


def create_app() -> FastAPI:
    application = FastAPI()
    application.add_api_route("/message", make_echo("received"), methods=["POST"])
    return application


app = create_app()
