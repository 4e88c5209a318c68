# Wraps the message in str(), so it arrives as Python's text of a dict.
# cause: str_message
# words: str( | string
# at: return {"received": str(m)}
# fix: return {"received": m}
from fastapi import FastAPI
app=FastAPI()
@app.post("/message")
def msg(m:dict):
  return {"received": str(m)}
