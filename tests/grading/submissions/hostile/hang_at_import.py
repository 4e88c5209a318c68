# Hangs at import with every catchable signal ignored, and leaves a child doing the same.
import os
import signal
import time

for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
    signal.signal(signum, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
while True:
    time.sleep(3600)
