"""The gdb side of attach by PID: run by gdb's own Python (``gdb -x``), never imported by heaptui.

What it does in the target, in order, printing one ``HEAPTUI: <step> ...`` line per step for
:mod:`heaptui.transport.attach.viewer_gdb` to parse:

1. Check the target is CPython (its C API symbols) and report its version.
2. Find a thread stopped at a *safe point* for calling libc: not inside malloc/free, the dynamic
   loader, thread creation or tracemalloc (their locks would deadlock a nested call). A thread
   idle in a system call usually is one; otherwise breakpoints on the entries of malloc and
   free catch a busy thread at a function entry, where it holds none of those locks.
3. On that thread, start a brand-new native thread (``PyThread_start_new_thread``) whose start
   function is libc's ``usleep``, and take it while it sleeps (or at the entry of ``usleep``).
4. On the new thread (which holds no lock and runs no Python code): copy the payload into a
   ``PyMem_RawMalloc`` buffer, take the GIL the ordinary way (``PyGILState_Ensure``, waiting
   like any thread would), run the payload, release the GIL, free the buffer, and detach.

The payload therefore never runs on top of the target's own code (no re-entrancy) and runs even
when the main thread is blocked in C with the GIL released (``time.sleep``, ``join``, ``select``).
The GIL wait is the one step that can last: it ends when the thread holding the GIL lets go.
That step is never interrupted (abandoning a thread inside the GIL code would hang the target).

Inputs come from the environment: ``HEAPTUI_INJECT_PAYLOAD`` (path of the code to run) and
``HEAPTUI_INJECT_MIN`` (oldest supported Python, "3.10").
"""

import os
import time

import gdb  # type: ignore[import-not-found]  # only exists inside gdb

MARK = "HEAPTUI:"
# Frames inside these hold (or may hold) locks that malloc, pthread_create or the GIL code need.
UNSAFE_FRAME_WORDS = (
    "malloc",
    "calloc",
    "realloc",
    "free",
    "memalign",
    "alloc_",
    "_int_",
    "arena",
    "tcache",
    "sbrk",
    "mmap",
    "_dl_",
    "dl_",
    "pthread_create",
    "allocate_stack",
    "fork",
    "tracemalloc",
    "PyThread_start",
    "PyGILState",
    "PyThreadState_New",
    "pending",
    "exit",
)
SAFE_POINT_FUNCTIONS = ("malloc", "free", "calloc", "realloc")
MAX_FRAMES = 64


def say(step, detail=""):
    print(f"{MARK} {step} {detail}".rstrip(), flush=True)


def value(expression):
    return gdb.parse_and_eval(expression)


def has_symbol(name):
    try:
        value(f"(long)&{name}")
    except gdb.error:
        return False
    return True


def python_version():
    """Return 'major.minor' from the target's C API, or '' when it is not CPython."""
    for name in ("PyRun_SimpleString", "PyGILState_Ensure", "PyThread_start_new_thread"):
        if not has_symbol(name):
            return ""
    if has_symbol("Py_Version"):  # 3.11+: PY_VERSION_HEX as data
        hexversion = int(value("*(unsigned int *)&Py_Version"))
        return f"{hexversion >> 24}.{(hexversion >> 16) & 0xFF}"
    if has_symbol("PyModule_AddObjectRef"):  # new in 3.10
        return "3.10"
    return "older"


def frame_names(thread):
    thread.switch()
    names = []
    frame = gdb.newest_frame()
    while frame is not None and len(names) < MAX_FRAMES:
        names.append(frame.name() or "")
        try:
            frame = frame.older()
        except gdb.error:
            break
    return names


def is_safe_thread(thread):
    names = frame_names(thread)
    return bool(names) and not any(w in n for n in names for w in UNSAFE_FRAME_WORDS)


class SafePointBreakpoint(gdb.Breakpoint):
    """Stops only a thread that entered malloc/free from a place holding no relevant lock."""

    def stop(self):
        thread = gdb.selected_thread()
        names = frame_names(thread)[1:]  # frame 0 is malloc/free itself, at its entry
        return not any(w in n for n in names for w in UNSAFE_FRAME_WORDS)


class NewThreadBreakpoint(gdb.Breakpoint):
    """Once armed, stops only threads that did not exist before: the one we started."""

    def __init__(self, spec, known):
        super().__init__(spec, internal=True)
        self.known = known
        self.armed = False

    def stop(self):
        return self.armed and gdb.selected_thread().ptid[1] not in self.known


def go_to_safe_point():
    """Leave a safe thread selected, or raise gdb.error."""
    inferior = gdb.selected_inferior()
    threads = sorted(inferior.threads(), key=lambda t: t.num)
    for thread in threads:
        if is_safe_thread(thread):
            thread.switch()
            say("safe-point", f"thread {thread.num} holds no allocator or loader lock")
            return
    names = [name for name in SAFE_POINT_FUNCTIONS if has_symbol(name)]
    breakpoints = [SafePointBreakpoint(name, internal=True) for name in names]
    try:
        gdb.execute("continue", to_string=True)
    finally:
        for bp in breakpoints:
            bp.delete()
    say("safe-point", f"thread {gdb.selected_thread().num} at a function entry")


def start_fresh_thread():
    """Start a native thread and leave it selected, parked in ``usleep`` (a safe point).

    Its start function is libc's ``usleep(250000)``: the thread blocks in a system call holding
    no lock, and ends by itself a moment after we are done with it. It must not stop on a
    breakpoint while our call that creates it is still running (gdb would abandon that call),
    so the catcher is armed only once the call returned; a thread that has not reached
    ``usleep`` by then is caught at its entry.
    """
    known = {t.ptid[1] for t in gdb.selected_inferior().threads()}
    catcher = NewThreadBreakpoint("usleep", known)
    try:
        started = int(
            value(
                "((unsigned long (*)(void (*)(void *), void *))PyThread_start_new_thread)"
                "((void (*)(void *))usleep, (void *)250000)"
            )
        )
        if started in ((1 << 64) - 1, -1):
            raise gdb.error("PyThread_start_new_thread failed")
        catcher.armed = True
        fresh = [t for t in gdb.selected_inferior().threads() if t.ptid[1] not in known]
        if not fresh:
            raise gdb.error("the new thread did not appear")
        names = frame_names(fresh[0])
        asleep = any("sleep" in n for n in names) and not any(
            w in n for n in names for w in UNSAFE_FRAME_WORDS
        )
        if not asleep:
            gdb.execute("continue", to_string=True)
            if gdb.selected_thread().ptid[1] in known:
                raise gdb.error("the new thread was not caught")
        else:
            fresh[0].switch()
    finally:
        catcher.delete()
    say("fresh-thread", str(gdb.selected_thread().num))


def run_payload(code):
    """On the fresh thread: copy ``code`` in, run it holding the GIL, free it."""
    size = len(code) + 1
    buffer = int(value(f"((void *(*)(unsigned long))PyMem_RawMalloc)({size})"))
    if not buffer:
        raise gdb.error("PyMem_RawMalloc failed")
    gdb.selected_inferior().write_memory(buffer, code + b"\0")
    say("waiting-gil")
    state = int(value("((int (*)(void))PyGILState_Ensure)()"))
    say("running")
    result = int(value(f"((int (*)(const char *))PyRun_SimpleString)((const char *){buffer})"))
    value(f"((void (*)(int))PyGILState_Release)({state})")
    value(f"((void (*)(void *))PyMem_RawFree)((void *){buffer})")
    say("ran", str(result))


def read_payload(path, timeout=10.0):
    """The payload is written while gdb starts; wait for it (it appears whole, by rename)."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise gdb.error("the payload never arrived")
        time.sleep(0.005)
    with open(path, "rb") as f:
        return f.read()


def main():
    for command in (
        "set pagination off",
        "set confirm off",
        "set unwindonsignal on",
        # The target's own signals go straight through and never stop us mid-call.
        "handle all nostop noprint pass",
        "handle SIGINT nostop noprint pass",
        "handle SIGSEGV stop print",
        "handle SIGBUS stop print",
        "handle SIGILL stop print",
        "handle SIGFPE stop print",
        "handle SIGABRT stop print",
        r"sharedlibrary libc\.so",
        "sharedlibrary ld-linux",
        "sharedlibrary libpython",
    ):
        gdb.execute(command, to_string=True)
    say("attached")
    version = python_version()
    if not version:
        say("not-python")
        return
    say("python", version)
    minimum = tuple(int(p) for p in os.environ.get("HEAPTUI_INJECT_MIN", "3.10").split("."))
    if version == "older" or tuple(int(p) for p in version.split(".")) < minimum:
        say("unsupported", version)
        return
    code = read_payload(os.environ["HEAPTUI_INJECT_PAYLOAD"])
    go_to_safe_point()
    start_fresh_thread()
    run_payload(code)


try:
    main()
except gdb.error as exc:
    say("failed", str(exc).replace("\n", " "))
finally:
    try:
        gdb.execute("detach", to_string=True)
        say("detached")
    except gdb.error:
        pass
