# Loops for ever while loading.
# error: timeout
# limits: quick
# cause: timeout
# words: did not finish loading | endless loop
# at: while True:
from fastapi import FastAPI

app = FastAPI()
while True:
    pass
