"""`python -m skillspark.llm.watched_server LEASES STATE -- -m llama_cpp.server FLAGS...`: that server, in
this process, plus a watchdog thread that ends it once no client holds a live lease.

Why inside the server: a client that is SIGKILLed runs no cleanup, and with several clients no single one
may tie the server's life to its own. The watchdog sees the dead client's lease go stale and, when no
live one is left, forgets the state file (if it names this server) and exits at once; an abandoned
generation is not worth finishing.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import threading
import time
from pathlib import Path

from skillspark.llm.leases import Leases

POLL_S = 0.5


def watch(leases: Leases, state_file: Path) -> None:
    while True:
        time.sleep(POLL_S)
        with leases.locked():
            if leases.live():
                continue
            try:
                named = json.loads(state_file.read_text()).get("pid")
            except (OSError, ValueError):
                named = None
            if named == os.getpid():
                state_file.unlink(missing_ok=True)
            os._exit(0)


def main(argv: list[str]) -> None:
    leases, state_file, separator, dash_m, module, *flags = argv
    if (separator, dash_m) != ("--", "-m"):
        raise SystemExit("usage: python -m skillspark.llm.watched_server LEASES STATE -- -m MODULE FLAGS...")
    threading.Thread(target=watch, args=(Leases(Path(leases)), Path(state_file)), daemon=True).start()
    sys.argv = [module, *flags]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
