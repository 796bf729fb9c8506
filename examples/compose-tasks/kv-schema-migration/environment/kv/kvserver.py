"""A tiny line-protocol key-value database that saves every write to a JSON file.

Commands (one per line, UTF-8, values without newlines): PING, GET key, SET key value, DEL key,
KEYS prefix. Replies: PONG, VALUE <value> or NIL, OK, KEYS <k1> <k2> ... (sorted), ERR <why>.
"""

import argparse
import json
import os
import socketserver
import threading

LOCK = threading.Lock()


class Store:
    def __init__(self, path):
        self.path = path
        self.data = json.load(open(path)) if os.path.exists(path) else {}

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as out:
            json.dump(self.data, out, sort_keys=True)
        os.replace(tmp, self.path)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        for raw in self.rfile:
            self.wfile.write((self.answer(raw.decode().rstrip("\r\n")) + "\n").encode())

    def answer(self, line):
        verb, _, rest = line.partition(" ")
        store = self.server.store
        with LOCK:
            if verb == "PING":
                return "PONG"
            if verb == "GET":
                return f"VALUE {store.data[rest]}" if rest in store.data else "NIL"
            if verb == "SET" and " " in rest:
                key, _, value = rest.partition(" ")
                store.data[key] = value
                store.save()
                return "OK"
            if verb == "DEL":
                store.data.pop(rest, None)
                store.save()
                return "OK"
            if verb == "KEYS":
                return " ".join(["KEYS", *sorted(k for k in store.data if k.startswith(rest))])
        return "ERR unknown command"


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--data", required=True)
args = parser.parse_args()
server = Server(("0.0.0.0", args.port), Handler)
server.store = Store(args.data)
server.serve_forever()
