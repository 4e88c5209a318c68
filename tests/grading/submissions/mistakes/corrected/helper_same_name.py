def format_reply(body):
    """wrap the body the way the exercise wants"""
    return {"received": body}


from fastapi import FastAPI

app = FastAPI()


@app.post("/message")
def receive_message(body: dict):
    return format_reply(body)
