from fastapi import FastAPI
app=FastAPI()
@app.post("/message")
def msg(m:dict):
  return {"received": m}
