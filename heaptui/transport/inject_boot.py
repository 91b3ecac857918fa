"""The code that runs inside an attached process and starts the agent there.

Never imported by heaptui itself: :mod:`heaptui.transport.inject_payload` sends this file's
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


def _write_result(directory, text):
    temp = os.path.join(directory, RESULT_NAME + ".part")
    with open(temp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(temp, os.path.join(directory, RESULT_NAME))


class _SourceLoader:
    """Serves the private package's modules from the source strings that came with the payload."""

    def __init__(self, package, sources):
        self.package = package
        self.sources = sources  # private module name -> (source, is_package)

    def find_spec(self, fullname, path=None, target=None):
        entry = self.sources.get(fullname)
        if entry is None:
            return None
        bootstrap = sys.modules["_frozen_importlib"]
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


def _release_modules(accept_thread):
    """Free the forgotten modules now rather than at some later full collection.

    Modules, classes and functions form reference cycles, so without this every attach would
    leave a few hundred KiB to the host's next full collection. A host that disabled the
    collector keeps that choice.
    """
    import gc
    import threading

    if accept_thread is not None and accept_thread is not threading.current_thread():
        accept_thread.join(1.0)
    if gc.isenabled():
        gc.collect()


def _start_agent(package, socket_dir):
    """Start the private copy of the agent; forget the package again when it stops."""
    import atexit

    agent_module = sys.modules[package + ".transport.agent"]
    exiting = []

    class InjectedAgent(agent_module.Agent):
        def info(self):
            return {**super().info(), "injected": True}  # the viewer that injected stops it

        def stop(self):
            try:
                super().stop()
            finally:
                if not exiting:  # unregistering from inside atexit itself is not safe
                    atexit.unregister(at_exit)
                if agent_module._agent is self:
                    agent_module._agent = None
                _forget(package)
                if not exiting:
                    _release_modules(getattr(self, "_accept_thread", None))

    def at_exit():
        exiting.append(True)
        agent.stop()

    agent = InjectedAgent(socket_dir=socket_dir, restart_after_fork=False)
    agent_module._agent = agent
    atexit.register(at_exit)
    return agent


def boot(params, sources):
    """Load the agent from ``sources``, start it, and report to ``params['dir']``; never raise."""
    directory = params["dir"]
    package = params["package"]
    if not os.path.isdir(directory):  # the injector stopped waiting: do nothing
        return
    loader = _SourceLoader(package, sources)
    sys.meta_path.insert(0, loader)
    try:
        for name in sources:
            __import__(name)
        agent = _start_agent(package, params["socket_dir"])
        result = "ok\n" + agent.path
    except BaseException as exc:
        _forget(package)
        result = "error\n" + type(exc).__name__ + ": " + str(exc)
    finally:
        sys.meta_path.remove(loader)
    try:  # noqa: SIM105  (contextlib may not be loaded in the target: import nothing extra)
        _write_result(directory, result)
    except OSError:
        pass
