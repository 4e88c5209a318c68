from fastapi import FastAPI


def create_app():
    app = FastAPI()

    @app.post("/message")
    async def receive_message(msg: dict):
        return {"received": msg}

    return app


app = create_app()
