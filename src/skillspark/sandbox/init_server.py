"""The sandbox's init: pid 1 inside the sandbox; it and one helper start every command (posix_spawn).

This file is NOT imported by skillspark. The host feeds it as the script of the sandbox's own
`/usr/bin/python3 -I -S -` (the host's system Python seen through the overlay), started once per
sandbox by bwrap (or `unshare`) already inside the sandbox's namespaces, cgroups and root. So a
command costs a vfork + exec here instead of `nsenter` + bwrap + cgroup moves on the host. It must
run on any Python >= 3.8 with the standard library only, and must stay small.

Why pid 1: processes a command leaves in the background live on in the sandbox's one pid
namespace (like in a container; a tmux server survives between commands) and orphans are reaped
here; signals sent from inside the sandbox cannot kill pid 1 (it installs no handlers); when init
exits, the kernel kills everything in the namespace.

Two spawners, because posix_spawn cannot change namespaces or capabilities between fork and
exec: init serves online commands; a child of it, which joined a loopback-only network namespace
made at start, serves offline ones (so offline commands share one loopback, as in a container
without network). Both first drop to the capabilities commands may have (Docker's default set,
decided by the host) and are not dumpable, so an offline command cannot ptrace the online init.

Protocol. argv: `ONLINE_FD OFFLINE_FD KEEP_CAPS`, two SOCK_SEQPACKET sockets to the host; EOF on
init's ends the sandbox. Each record starts one command: a JSON header {"stdin": bool, "keep": n}
with the fds [conn, stdout, stderr, (stdin), keep...]. `conn` is a stream socket private to the
command: the host writes one JSON line {"argv", "env", "cwd"}; the spawner answers one line with
the exit code when the command's main process exits. "kill" (or EOF) on conn before that kills the
command's tree (its session and every descendant). The `keep` fds are copies of the read ends of
the output pipes: once the host is done, the spawner drains them until EOF, so a background
process still writing to the command's stdout never gets SIGPIPE.
"""

import ctypes
import errno
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
PR_SET_NAME, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 15, 4, 24, 47, 4
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
CAP_VERSION_3 = 0x20080522
MAX_FDS = 8
COMMAND_OOM_SCORE = 500  # oom_score_adj of every command (init keeps 0); see OomScore
SPAWN_RETRIES = 40  # x 50 ms: how long a spawn waits for pids held by a killed tree's zombies
libc = ctypes.CDLL(None, use_errno=True)


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def check(ret, what):
    if ret != 0:
        code = ctypes.get_errno()
        raise OSError(code, "%s: %s" % (what, os.strerror(code)))


def prctl(*args):
    return libc.prctl(*[ctypes.c_ulong(a) if isinstance(a, int) else a for a in args])


def drop_capabilities(keep, last_cap):
    """Bounding, permitted, effective and ambient sets down to `keep` (root regains only these at exec)."""
    for cap in range(last_cap + 1):
        if cap not in keep:
            check(prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "drop capability %d" % cap)
    mask = sum(1 << cap for cap in keep)
    data = (CapData * 2)()
    for i, word in enumerate((mask & 0xFFFFFFFF, mask >> 32)):
        data[i].effective = data[i].permitted = word
    check(libc.capset(ctypes.byref(CapHeader(CAP_VERSION_3, 0)), data), "capset")
    check(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")


def loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, SIOCGIFFLAGS, struct.pack("16sH22x", b"lo", 0)))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))


def make_offline_netns():
    """A new network namespace with only loopback, held open by an fd (made in a short-lived child,
    because init itself must stay in the online one: joining the host's again is not allowed)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            check(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
            loopback_up()
            os.write(w, b"ok")
            signal.pause()
        except BaseException as exc:  # report anything to the parent, never return into its loop
            os.write(w, str(exc).encode()[:500])
        os._exit(1)
    os.close(w)
    answer = os.read(r, 600)
    os.close(r)
    try:
        if answer != b"ok":
            raise OSError("cannot create the offline network namespace: %s" % answer.decode(errors="replace"))
        return os.open("/proc/%d/ns/net" % pid, os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def exit_code(status):
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def read_stat(pid):
    """(state, ppid, session) of a process, or None if it is gone."""
    try:
        with open("/proc/%s/stat" % pid, "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[3])


def kill_tree(root):
    """SIGKILL the command's session and all descendants until none is left (forks are caught next pass).

    A process that detached itself (double fork + setsid, like a tmux server) is neither, and lives on.
    """
    me = os.getpid()
    for _ in range(500):
        procs = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                stat = read_stat(name)
                if stat is not None and stat[0] != b"Z":
                    procs[int(name)] = stat
        victims = {pid for pid, (_, _, sid) in procs.items() if pid == root or sid == root}
        grew = True
        while grew:
            extra = {pid for pid, (_, ppid, _) in procs.items() if ppid in victims and pid not in victims}
            victims |= extra
            grew = bool(extra)
        victims.discard(me)
        if not victims:
            return
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.001)


class OomScore:
    """Commands are born with a high OOM score, so the OOM killer picks one of them before init.

    Lowering a score needs CAP_SYS_RESOURCE, raising it does not: init raises its own score for
    the instant of each spawn (the child inherits it at fork) and lowers it back to 0 (the floor
    it inherited) right after. A command may lower itself back to 0; then it only competes with
    init on size, and only in its own sandbox.
    """

    def __init__(self):
        self.fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY | os.O_CLOEXEC)

    def set(self, value):
        try:
            os.write(self.fd, b"%d" % value)
        except OSError:  # a host that refuses even this: the score stays as it was
            pass


class SpawnError(Exception):
    """(message, exit code, errno) for a command that could not be started."""


def find_program(name, path):
    """What execvp would run for `name` under this PATH, or None."""
    if "/" in name:
        return name
    for folder in (path or "/usr/bin:/bin").split(":"):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def spawn(request, stdin, stdout, stderr):
    """Start the command with posix_spawn (vfork + exec: no copy of this process's memory map).

    It gets its own session (so that its tree can be found and killed), default dispositions for
    the signals Python ignores (ignored signals survive exec) and the given stdio.
    """
    argv, env = request["argv"], request["env"]
    try:
        os.chdir(request["cwd"])
    except OSError as exc:
        raise SpawnError("cannot change to directory %s: %s" % (request["cwd"], exc.strerror), 1, exc.errno)
    try:
        program = find_program(argv[0], env.get("PATH"))
        if program is None:
            raise SpawnError("%s: command not found" % argv[0], 127, errno.ENOENT)
        stdin_action = ((os.POSIX_SPAWN_DUP2, stdin, 0) if stdin is not None
                        else (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0))
        actions = [stdin_action, (os.POSIX_SPAWN_DUP2, stdout, 1), (os.POSIX_SPAWN_DUP2, stderr, 2)]
        return os.posix_spawn(program, argv, env, file_actions=actions, setsid=True, setsigmask=(),
                              setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGCHLD))
    except OSError as exc:
        raise SpawnError("%s: %s" % (argv[0], exc.strerror), 127 if exc.errno == errno.ENOENT else 126, exc.errno)
    finally:
        os.chdir("/")


class Command:
    def __init__(self, conn, stdout, stderr, stdin, keep):
        self.conn, self.stdout, self.stderr, self.stdin, self.keep = conn, stdout, stderr, stdin, keep
        self.buffer = b""
        self.pid = None
        self.exited = False


class Spawner:
    """Serves one control channel: starts its commands, reports their exits, kills their trees."""

    def __init__(self, ctl, ready):
        self.ctl = ctl
        self.ready = ready
        self.oom_score = OomScore()
        self.poll = select.poll()
        self.handlers = {}
        self.running = {}  # pid -> Command
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        self.wake_r = wake_r
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.watch(ctl.fileno(), self.on_control)
        self.watch(wake_r, self.on_child)

    def watch(self, fd, handler):
        self.poll.register(fd, select.POLLIN)
        self.handlers[fd] = handler

    def unwatch(self, fd):
        self.poll.unregister(fd)
        del self.handlers[fd]
        os.close(fd)

    def serve(self):
        self.ctl.send(json.dumps(self.ready).encode())
        while True:
            for fd, _ in self.poll.poll():
                handler = self.handlers.get(fd)
                if handler is not None:
                    handler()

    def on_control(self):
        data, ancdata, _, _ = self.ctl.recvmsg(4096, socket.CMSG_SPACE(MAX_FDS * 4), socket.MSG_CMSG_CLOEXEC)
        if not data:  # the host closed the sandbox (init exiting kills everything in the pid namespace)
            os._exit(0)
        fds = []
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += list(struct.unpack("%di" % (len(payload) // 4), payload[: len(payload) - len(payload) % 4]))
        header = json.loads(data)
        conn, stdout, stderr, rest = fds[0], fds[1], fds[2], fds[3:]
        stdin = rest.pop(0) if header["stdin"] else None
        command = Command(socket.socket(fileno=conn), stdout, stderr, stdin, rest)
        command.conn.setblocking(False)
        self.watch(conn, lambda: self.on_conn(command))
        self.on_conn(command)  # the host usually sent the request before the record: start now

    def on_conn(self, command):
        try:
            data = command.conn.recv(1 << 16)
        except BlockingIOError:  # nothing yet (or a stale poll event for a reused fd number)
            return
        except OSError:
            data = b""
        if command.pid is None:
            command.buffer += data
            if not data:
                self.finish(command)
            elif b"\n" in command.buffer:
                self.start(command, json.loads(command.buffer.split(b"\n", 1)[0]))
            return
        if not command.exited:  # "kill", or the host went away (timeout, cancellation)
            kill_tree(command.pid)
        if not data:
            self.finish(command)

    def start(self, command, request):
        try:
            command.pid = self.spawn_when_pids_free(command, request)
        except SpawnError as exc:
            os.write(command.stderr, ("skillspark sandbox: %s\n" % exc.args[0]).encode())
            command.pid, command.exited = -1, True
            self.send_status(command, exc.args[1])
        else:
            self.running[command.pid] = command
        self.close_stdio(command)

    def spawn_when_pids_free(self, command, request):
        """Spawn, first reaping what has exited: a killed tree's zombies hold pids until reaped.

        Right after a timeout killed a fork bomb, the pids cgroup can still be full of zombies
        (this loop had not yet read their SIGCHLD), and posix_spawn would fail with EAGAIN.
        """
        for attempt in range(SPAWN_RETRIES):
            self.on_child()
            self.oom_score.set(COMMAND_OOM_SCORE)
            try:
                return spawn(request, command.stdin, command.stdout, command.stderr)
            except SpawnError as exc:
                if exc.args[2] != errno.EAGAIN or attempt == SPAWN_RETRIES - 1:
                    raise
                time.sleep(0.05)
            finally:
                self.oom_score.set(0)

    def finish(self, command):
        """The host is done with this command: drop the socket, drain what background processes write."""
        self.unwatch(command.conn.detach())
        self.close_stdio(command)
        for fd in command.keep:
            os.set_blocking(fd, False)
            self.watch(fd, lambda fd=fd: self.drain(fd))

    @staticmethod
    def close_stdio(command):
        for fd in (command.stdout, command.stderr, command.stdin):
            if fd is not None:
                os.close(fd)
        command.stdout = command.stderr = command.stdin = None

    def drain(self, fd):
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.unwatch(fd)

    def send_status(self, command, code):
        try:
            command.conn.sendall(b"%d\n" % code)
        except OSError:
            pass

    def on_child(self):
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            command = self.running.pop(pid, None)
            if command is not None:  # else (in init): an orphan reparented to pid 1, now reaped
                command.exited = True
                self.send_status(command, exit_code(status))


def close_on_exec_all():
    """Mark every descriptor above stdio close-on-exec: a command sees exactly fds 0-2.

    init's control sockets (and anything the isolator left open) would otherwise be inherited by
    every command, and a command holding them could read the host's requests and forge answers.
    """
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                os.set_inheritable(fd, False)
            except OSError:  # the fd of the listing itself, already closed
                pass


def main():
    """Set up pid 1, fork the offline spawner, then serve the online commands (and reap orphans)."""
    close_on_exec_all()
    online, offline = (socket.socket(fileno=int(fd)) for fd in sys.argv[1:3])
    keep_caps = {int(cap) for cap in sys.argv[3].split(",") if cap}
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)  # stdin was this script
    os.close(null)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # pid 1: signals from inside the sandbox are ignored
    check(prctl(PR_SET_NAME, ctypes.c_char_p(b"skillspark-init"), 0, 0, 0), "set name")
    check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "set non-dumpable")  # the spawner inherits it
    name = b"sandbox"
    check(libc.sethostname(name, len(name)), "set hostname")
    with open("/proc/sys/kernel/cap_last_cap") as fh:
        last_cap = int(fh.read())
    offline_netns = make_offline_netns()
    if os.fork() == 0:
        online.close()
        check(libc.setns(offline_netns, CLONE_NEWNET), "join the offline network")
        os.close(offline_netns)
        drop_capabilities(keep_caps, last_cap)
        Spawner(offline, {"ready": True}).serve()
    offline.close()
    drop_capabilities(keep_caps, last_cap)
    Spawner(online, {"ready": True, "offline_fd": offline_netns}).serve()


if __name__ == "__main__":
    main()
