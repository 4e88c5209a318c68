# Kills its own process while loading: nothing inside can report it, the host sees the exit.
# error: crash
# cause: startup_crash
# words: did not come up | SIGKILL
# at: none
import os
import signal

from fastapi import FastAPI

app = FastAPI()
os.kill(os.getpid(), signal.SIGKILL)
