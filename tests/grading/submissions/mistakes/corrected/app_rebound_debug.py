from fastapi import FastAPI

app = FastAPI(debug=True)


@app.post("/message")
def receive_message(msg: dict):
    return {"received": msg}

