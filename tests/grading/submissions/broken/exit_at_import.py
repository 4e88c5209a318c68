# error: exit
# message: exit(3)
import sys

from fastapi import FastAPI

app = FastAPI()
if __name__ != "__main__":
    sys.exit(3)
