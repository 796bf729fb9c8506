"""Health check: exit 0 when the database at HOST PORT answers PING."""

import socket
import sys

with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as conn:
    conn.sendall(b"PING\n")
    sys.exit(0 if conn.makefile().readline().strip() == "PONG" else 1)
