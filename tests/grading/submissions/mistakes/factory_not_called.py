# Builds the app in a factory function, as a tutorial on testing showed, and never calls it.
# error: no_app
# cause: no_app
# words: `app = create_app()`
# at: def create_app():
from fastapi import FastAPI


def create_app():
    app = FastAPI()

    @app.post("/message")
    async def receive_message(msg: dict):
        return {"received": msg}

    return app
