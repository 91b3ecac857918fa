"""The code that runs inside an attached process and starts the agent there.

Never imported by heaptui itself: :mod:`heaptui.transport.attach.viewer_payload` sends this file's
*source* into the target (through gdb or ``sys.remote_exec``) followed by one call to
:func:`boot`. So it is standard library only, binds nothing in the target's ``__main__``
(the payload runs it in a fresh namespace), and must never raise or print.

:func:`boot` loads the agent's modules from source strings under a private package name (so
they cannot clash with a different heaptui the target may have), starts the agent, and writes
one line of result into the injector's private directory. When that directory is gone, the
injector gave up waiting: nothing is started. When the agent is stopped (the viewer detaches,
or the interpreter exits), the private modules are forgotten again, leaving nothing behind.
"""

import os
import sys

RESULT_NAME = "result"
# An injected agent uninstalls itself when no viewer has been connected for this long (and
# for longer before the first viewer connects: the injector connects right after the result).
LEASE_SECONDS = 5.0
FIRST_LEASE_SECONDS = 15.0
LEASE_POLL_SECONDS = 0.5


def _write_result(directory, text):
    # Not heaptui.core.atomic: this also reports a package that failed to load (and is then
    # forgotten), so it must need nothing but os. The directory is the injector's, 0700.
    temp = os.path.join(directory, RESULT_NAME + ".part")
    with open(temp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temp, os.path.join(directory, RESULT_NAME))


class _SourceLoader:
    """Serves the private package's modules from the source strings that came with the payload,
    and its compiled walk from the private copy of the library named by ``extension``."""

    def __init__(self, package, sources, extension=None):
        self.package = package
        self.sources = sources  # private module name -> (source, is_package)
        self.extension = extension  # path of the C walk's private copy, or None

    def find_spec(self, fullname, path=None, target=None):
        bootstrap = sys.modules["_frozen_importlib"]
        if fullname == self.package + ".capture._walk" and self.extension:
            # Multi-phase init: the module is made under this private name from this spec.
            external = sys.modules["_frozen_importlib_external"]
            loader = external.ExtensionFileLoader(fullname, self.extension)
            return bootstrap.ModuleSpec(fullname, loader, origin=self.extension)
        entry = self.sources.get(fullname)
        if entry is None:
            return None
        spec = bootstrap.ModuleSpec(fullname, self, origin="<heaptui attach>", is_package=entry[1])
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        source, is_package = self.sources[module.__name__]
        filename = "<heaptui attach>/" + module.__name__.replace(".", "/")
        filename += "/__init__.py" if is_package else ".py"
        exec(compile(source, filename, "exec"), module.__dict__)


def _forget(package):
    """Drop every module of the private package from ``sys.modules``."""
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        sys.modules.pop(name, None)


# The last step of an uninstall runs in a thread of its own, with globals of its own (nothing it
# holds leads to the agent): it waits until every thread of the agent has ended (the one that
# stopped it included), then collects, so the forgotten modules, classes and functions
# (reference cycles) are freed now rather than left as garbage to the host's next full
# collection (and to the next snapshot).
_FINAL_COLLECT = """
def final_collect(box):
    joins = box.pop()
    for join in joins:
        join(10.0)
    del joins, join
    import gc
    if gc.isenabled():
        gc.collect()
"""


def _release_modules(prefix):
    """Free the forgotten modules once every thread of the agent (named ``prefix``...) has ended.

    A host that disabled the collector keeps that choice.
    """
    import threading

    namespace = {"__builtins__": __builtins__}
    exec(_FINAL_COLLECT, namespace)
    final = namespace.pop("final_collect")
    joins = [t.join for t in threading.enumerate() if t.name.startswith(prefix)]
    # A threading.Thread (a bare _thread one would register a _DummyThread when it joins).
    threading.Thread(target=final, args=([joins],), name=prefix + "-final", daemon=True).start()


def _walker_used(package, extension):
    """``"c"``, or ``"python: <why>"`` when the private copy of the C walk is not loaded."""
    accel = sys.modules.get(package + ".capture.accel")
    if accel is not None and getattr(accel, "_walk", None) is not None:
        return "c"
    if not extension:
        return "python: no compiled walker was offered"
    try:
        __import__(package + ".capture._walk")
    except BaseException as exc:  # the reason the capture package fell back
        return "python: " + type(exc).__name__ + ": " + str(exc)
    return "python: the capture package did not take the compiled walker"


def _private_objects(package, roots):
    """ids of what the injection made: the private modules and what only they lead to.

    From ``roots`` and the private modules, follows references into everything except other
    modules, their namespaces, classes and functions that are not the private package's, and
    frames; so the program's objects (and the strings and numbers it may share) are never
    taken. Also takes the weak references that register private classes with their bases.
    """
    import gc
    import types

    private_mods = {}
    names = []
    for name, module in list(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            private_mods[id(module)] = module
            names.append(name)  # sys.modules' key, a string of ours
    # Private modules are ours (one is of a module subclass): reading __dict__ runs no user code.
    private_dicts = {
        id(m.__dict__) for m in private_mods.values() if isinstance(m, types.ModuleType)
    }
    for root in roots:
        if type(root) is dict:
            private_dicts.add(id(root))
    foreign = set()  # other modules, their namespaces and what they name: the program's
    for module in list(sys.modules.values()):
        if type(module) is types.ModuleType and id(module) not in private_mods:
            foreign.add(id(module))
            foreign.add(id(module.__dict__))
            foreign.update(map(id, list(module.__dict__.values())))
    get_module = type.__dict__["__module__"].__get__
    atomic = (str, bytes, int, float, bool, type(None), complex)
    ids = set(map(id, names))
    classes = []
    work = list(private_mods.values()) + list(roots)
    walk = sys.modules.get(package + ".capture._walk")
    if walk is not None and "StringTable" in walk.__dict__:
        # A static type of the private library: its own, though its name is heaptui's. Not a
        # gc type: its namespace, mro and bases are not among its referents.
        table = walk.__dict__["StringTable"]
        classes.append(table)
        work.extend((table, table.__mro__, table.__bases__, *gc.get_referents(table.__dict__)))
    while work:
        obj = work.pop()
        ids.add(id(obj))
        for ref in gc.get_referents(obj):
            if id(ref) in ids or id(ref) in foreign:
                continue
            tp = type(ref)
            if tp in atomic or tp is types.FrameType or tp is types.ModuleType:
                continue  # private modules are roots already
            if isinstance(ref, type):
                if not _is_private_name(get_module(ref), package):
                    continue
                classes.append(ref)
            elif tp is types.FunctionType and not (
                id(ref.__globals__) in private_dicts or _is_private_name(ref.__module__, package)
            ):
                continue  # a wrapper (contextmanager, wraps) names its function's module
            elif tp is tuple and not ref:
                continue  # the empty tuple is shared by everyone
            ids.add(id(ref))
            work.append(ref)
            if tp is types.CodeType:  # not a gc type: its tuples are not among its referents
                work.append(ref.co_consts)
                work.append(ref.co_names)
    import _weakref

    for cls in classes:
        ids.update(map(id, _weakref.getweakrefs(cls)))
    return ids


def _is_private_name(name, package):
    """True for the module name of something the injection defined."""
    return type(name) is str and (
        name == "__heaptui_attach__" or name == package or name.startswith(package + ".")
    )


def _start_agent(package, socket_dir, namespace):
    """Start the private copy of the agent; forget the package again when it stops."""
    import atexit
    import threading
    import time

    agent_module = sys.modules[package + ".transport.agent"]
    # Read now: the private modules are forgotten before the agent's threads have ended.
    prefix = sys.modules[package + ".core.agent_threads"].AGENT_THREAD_PREFIX
    exiting = []

    class InjectedAgent(agent_module.Agent):
        walker = "python"

        def __init__(self, **options):
            self.seen_viewer = False  # the accept thread may admit one before __init__ ends
            self.last_viewer = time.monotonic()
            self.lease_wake = threading.Event()
            super().__init__(**options)

        def info(self):
            # The viewer that injected it stops it; "walker" says which walk its captures use.
            return {**super().info(), "injected": True, "walker": self.walker}

        def _own_ids(self):
            ids = super()._own_ids()
            ids.update(_private_objects(package, (namespace, self, at_exit, _lease_loop)))
            ids.add(id(ids))
            return ids

        def _admit(self, conn):
            self.seen_viewer = True
            self.last_viewer = time.monotonic()
            super()._admit(conn)

        def _serve(self, conn):
            try:
                super()._serve(conn)
            finally:
                self.last_viewer = time.monotonic()

        def stop(self):
            try:
                super().stop()
            finally:
                if not exiting:  # unregistering from inside atexit itself is not safe
                    atexit.unregister(at_exit)
                if agent_module._agent is self:
                    agent_module._agent = None
                _forget(package)
                self.lease_wake.set()
                if not exiting:
                    _release_modules(prefix)

    def at_exit():
        exiting.append(True)
        agent.stop()

    def _lease_loop(agent):
        # No viewer connected for LEASE_SECONDS (FIRST_LEASE_SECONDS before the first one)
        # means its viewer is gone for good (killed, hung up): uninstall.
        while not agent._stopped:
            agent.lease_wake.wait(LEASE_POLL_SECONDS)
            with agent._connections_lock:
                connected = len(agent._connections)
            lease = LEASE_SECONDS if agent.seen_viewer else FIRST_LEASE_SECONDS
            if not connected and time.monotonic() - agent.last_viewer > lease:
                agent.stop()
                return

    agent = InjectedAgent(socket_dir=socket_dir, restart_after_fork=False)
    agent_module._agent = agent
    atexit.register(at_exit)
    threading.Thread(target=_lease_loop, args=(agent,), name=prefix + "-lease", daemon=True).start()
    return agent


def boot(params, sources):
    """Load the agent from ``sources``, start it, and report to ``params['dir']``; never raise.

    The result is ``ok``, the socket path and the walker the captures will use (``c``, or
    ``python: <why>``), one per line; or ``error`` and why.
    """
    directory = params["dir"]
    package = params["package"]
    if not os.path.isdir(directory):  # the injector stopped waiting: do nothing
        return
    extension = params.get("extension")
    loader = _SourceLoader(package, sources, extension)
    sys.meta_path.insert(0, loader)
    try:
        for name in sources:
            __import__(name)
        walker = _walker_used(package, extension)
        agent = _start_agent(package, params["socket_dir"], globals())
        agent.walker = walker.partition(":")[0]
        result = "ok\n" + agent.path + "\n" + walker
    except BaseException as exc:
        _forget(package)
        result = "error\n" + type(exc).__name__ + ": " + str(exc)
    finally:
        sys.meta_path.remove(loader)
    try:  # noqa: SIM105  (contextlib may not be loaded in the target: import nothing extra)
        _write_result(directory, result)
    except OSError:
        pass
