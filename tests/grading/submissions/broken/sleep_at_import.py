# error: timeout
# limits: quick
import time

from fastapi import FastAPI

time.sleep(3600)
app = FastAPI()
