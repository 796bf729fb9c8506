"""Load the schema-1 user records: `u:<n>` -> "First Last|email|YYYY-MM-DD", and meta:schema = 1."""

import os
import random
import socket

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony"]
LAST = ["Hopper", "Turing", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Hoare", "Dijkstra", "Lamport"]


def records(seed):
    rng = random.Random(seed)
    out = {}
    for n in range(1, 25):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first}.{last}{n}@example.org".lower()
        out[f"u:{n}"] = f"{first} {last}|{email}|20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    for n in rng.sample(range(1, 25), 3):  # damaged rows: a missing field
        out[f"u:{n}"] = out[f"u:{n}"].rsplit("|", 1)[0]
    return out


with socket.create_connection((os.environ["KV_HOST"], int(os.environ["KV_PORT"])), timeout=10) as conn:
    replies = conn.makefile()
    for key, value in [*records(77).items(), ("meta:schema", "1")]:
        conn.sendall(f"SET {key} {value}\n".encode())
        assert replies.readline().strip() == "OK"
print("seeded")
