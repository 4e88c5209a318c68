# Kills its own process while loading: nothing inside can report it, the host sees the exit.
# uncorrectable: the file defines no endpoint; it is written only to kill itself while loading
# error: crash
# cause: startup_crash
# words: did not come up | SIGKILL
# at: none
import os
import signal

from fastapi import FastAPI

app = FastAPI()
os.kill(os.getpid(), signal.SIGKILL)
