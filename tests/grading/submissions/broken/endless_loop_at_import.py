# error: timeout
# limits: quick
from fastapi import FastAPI

app = FastAPI()
count = 0
while True:
    count += 1
