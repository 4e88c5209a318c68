from fastapi import FastAPI
app = FastAPI()

@app.post("/message")
def message_endpoint(message: dict):
    reply = {"received": message}
    return reply
