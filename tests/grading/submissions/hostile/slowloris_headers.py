# Takes over the listening socket: tells the host it is ready (through the status
# descriptor named on its command line), keeps the real server from ever starting,
# and answers every connection with response headers trickling one byte a second.
import json
import os
import socket
import sys
import threading
import time

status_fd = int(sys.argv[sys.argv.index("--status-fd") + 1])
listen_fd = int(sys.argv[sys.argv.index("--listen-fd") + 1])
listener = socket.socket(fileno=os.dup(listen_fd))


def trickle(conn):
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        while True:
            conn.sendall(b"X")
            time.sleep(1)
    except OSError:
        pass


def serve():
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=trickle, args=(conn,), daemon=True).start()


threading.Thread(target=serve, daemon=True).start()
print("PROBE:" + json.dumps({"hijacked": listen_fd}), flush=True)
os.write(status_fd, (json.dumps({"event": "ready"}) + "\n").encode())
while True:
    time.sleep(3600)
