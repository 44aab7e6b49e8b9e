# chatglm4j's Python worker: runs notebook-style cells for the code interpreter, inside the sandbox.
#
# Protocol (one JSON object per line, UTF-8):
#   JVM -> worker (stdin):   {"id": N, "code": "..."}
#   worker -> JVM (stdout):  {"ready": true, "python": "3.11.2", "files": [...]} once at start, then per cell
#                            {"id": N, "text": "...", "dropped": K, "error": "traceback"|null, "images": ["base64 PNG", ...],
#                             "images_dropped": M, "files": [["relative/path", size, mtime_ns], ...]}
# "files" lists the regular files under /mnt/data (symlinks are not followed), at most MAX_FILES of them.
# The protocol uses private copies of fds 0 and 1. fd 0 is then /dev/null and fd 1 goes to stderr, so neither user
# code nor a program it starts reads requests or writes reply lines by accident. The JVM interrupts a cell with
# SIGINT to this process group; the worker answers with the KeyboardInterrupt traceback.
# Processes a cell starts end with the cell: afterwards every other process in the sandbox (but its init) is killed and
# reaped, so a fork bomb or a forgotten background job cannot hold the process limit or run on between cells.
# Argument 1: the most characters of output kept per cell (the rest is counted, not stored).

import ast
import base64
import builtins
import io
import json
import linecache
import os
import signal
import stat
import sys
import traceback
import types
import warnings

OUTPUT_LIMIT = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
MAX_FIGURES = 20
MAX_FILES = 1000
DATA = "/mnt/data"
DRIVER_FILE = os.path.abspath(__file__)
MAIN_PID = os.getpid()

_requests = os.fdopen(os.dup(0), "rb")
_replies = os.fdopen(os.dup(1), "wb")
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)
os.dup2(2, 1)
_real_stdout, _real_stderr = sys.stdout, sys.stderr

# Notebook-like: the working folder is importable, matplotlib draws off screen without complaining that it cannot show.
sys.path.insert(0, "")
warnings.filterwarnings("ignore", message=".*non-GUI backend.*")
warnings.filterwarnings("ignore", message=".*FigureCanvasAgg is non-interactive.*")

_running = False


def _on_interrupt(signum, frame):
    # Between cells an interrupt has nothing to stop (it may arrive just after a cell finished).
    if _running:
        raise KeyboardInterrupt


signal.signal(signal.SIGINT, _on_interrupt)


class _Capture(io.TextIOBase):
    """stdout and stderr of a cell, interleaved as printed, kept up to OUTPUT_LIMIT characters."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self):
        self.parts = []
        self.size = 0
        self.dropped = 0

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, s):
        if not isinstance(s, str):
            raise TypeError("write() argument must be str, not " + type(s).__name__)
        room = OUTPUT_LIMIT - self.size
        if room >= len(s):
            self.parts.append(s)
            self.size += len(s)
        else:
            if room > 0:
                self.parts.append(s[:room])
                self.size += room
            self.dropped += len(s) - max(room, 0)
        return len(s)

    def flush(self):
        pass

    def text(self):
        return "".join(self.parts)


def _user_traceback(exc):
    """The traceback without the driver's own frames (the cell runner, the interrupt handler), as a notebook shows it."""
    summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    seen = set()
    todo = [summary]
    while todo:
        te = todo.pop()
        if te is None or id(te) in seen:
            continue
        seen.add(id(te))
        te.stack[:] = [frame for frame in te.stack if frame.filename != DRIVER_FILE]
        todo += [te.__cause__, te.__context__]
    return "".join(summary.format())


def _figures():
    """Every open matplotlib figure as base64 PNG, then closed (only if the cell used pyplot)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return [], 0, None
    images, problem = [], None
    numbers = plt.get_fignums()
    for number in numbers[:MAX_FIGURES]:
        buffer = io.BytesIO()
        try:
            plt.figure(number).savefig(buffer, format="png")
            images.append(base64.b64encode(buffer.getvalue()).decode("ascii"))
        except Exception as e:
            problem = _user_traceback(e)
    plt.close("all")
    return images, max(0, len(numbers) - MAX_FIGURES), problem


def _files():
    listing = []
    for folder, _, names in os.walk(DATA):
        for name in names:
            path = os.path.join(folder, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                listing.append([os.path.relpath(path, DATA), st.st_size, st.st_mtime_ns])
                if len(listing) >= MAX_FILES:
                    return listing
    return listing


def _end_stray_processes():
    try:
        os.kill(-1, signal.SIGKILL)  # -1: every process this one may signal in its PID namespace, except init and itself
    except ProcessLookupError:
        return
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _run(cell_id, code, namespace):
    global _running
    filename = "<cell-%d>" % cell_id
    # Tracebacks then show the cell's source lines.
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    out = _Capture()
    sys.stdout = sys.stderr = out
    sys.stdin = io.StringIO("")  # input() reads end of file; exit() closes stdin, so each cell gets a new one
    signal.signal(signal.SIGINT, _on_interrupt)  # an earlier cell may have replaced it
    error = None
    try:
        tree = ast.parse(code, filename, "exec")
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        _running = True
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
            if value is not None:
                namespace["_"] = value
                out.write(repr(value) + "\n")
    except BaseException as e:  # SystemExit and KeyboardInterrupt too: the worker outlives the cell
        error = _user_traceback(e)
    finally:
        _running = False
        if os.getpid() != MAIN_PID:
            os._exit(0)  # a process the cell forked must never answer for the worker
        sys.stdout, sys.stderr = _real_stdout, _real_stderr
    _end_stray_processes()
    images, images_dropped, problem = _figures()
    if problem is not None:
        error = (error or "") + problem
    return {"id": cell_id, "text": out.text(), "dropped": out.dropped, "error": error,
            "images": images, "images_dropped": images_dropped, "files": _files()}


def _reply(message):
    # ASCII escapes keep lone surrogates a program printed from breaking the UTF-8 line.
    _replies.write((json.dumps(message, ensure_ascii=True) + "\n").encode("ascii"))
    _replies.flush()


def main():
    user_main = types.ModuleType("__main__")
    user_main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = user_main
    namespace = user_main.__dict__
    _reply({"ready": True, "python": sys.version.split()[0], "files": _files()})
    for line in _requests:
        try:
            request = json.loads(line)
            cell_id, code = int(request["id"]), str(request["code"])
        except (ValueError, KeyError, TypeError) as e:
            _reply({"id": -1, "text": "", "dropped": 0, "error": "bad request: %s" % e, "images": [],
                    "images_dropped": 0, "files": []})
            continue
        try:
            result = _run(cell_id, code, namespace)
        except KeyboardInterrupt:  # arrived while the driver itself was busy: the cell is over anyway
            result = {"id": cell_id, "text": "", "dropped": 0, "error": "KeyboardInterrupt\n", "images": [],
                      "images_dropped": 0, "files": _files()}
        _reply(result)


main()
