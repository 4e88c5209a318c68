# Loops for ever while loading.
# uncorrectable: the file defines no endpoint; it is written only to hang while loading
# error: timeout
# limits: quick
# cause: timeout
# words: did not finish loading | endless loop
# at: while True:
from fastapi import FastAPI

app = FastAPI()
while True:
    pass
