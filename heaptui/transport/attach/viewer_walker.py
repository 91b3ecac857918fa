"""The compiled walker for an attached process: a private copy of ``heaptui.capture._walk``.

An injected agent loads the C walk from a file of its own rather than from wherever heaptui is
installed (the target may have none, or another version): a copy in the viewer's cache,
``~/.cache/heaptui/walk/<ABI tag>-<digest>/`` (directories 0700), named by the content it
holds, so attaching twenty times maps the same file once. A target of the viewer's own Python
gets a copy of the viewer's build; a target of another version gets one built on demand with
the target's own interpreter (its headers, its compiler flags), within a timeout. Whatever
fails, :func:`walker_for` says why in one line and the agent uses the pure-Python walker.

The library stays mapped in the target after detach (Python never unloads an extension); no
Python object of it does (the module is made from its spec, multi-phase, and forgotten).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from heaptui.core.atomic import write_bytes_atomically

__all__ = ["BUILD_TIMEOUT", "WALK_SOURCES", "cache_root", "walker_for"]

_CAPTURE_DIR = Path(__file__).resolve().parents[2] / "capture"
# What a build of the C walk needs: its sources, then the headers they include (setup.py builds
# the extension from the same files; tests/transport/test_walk_sources.py checks both lists).
WALK_SOURCES = (
    "_walk.c",
    "_columns.c",
    "_typeinfo.c",
    "_texts.c",
    "_edges.c",
    "_foreign.c",
    "_strtab.c",
    "_frames.c",
    "_walk.h",
    "_addrset.h",
    "_internal.h",
    "_frames.h",
    "_strtab.h",
    "_vec.h",
    "_views.h",
)
BUILD_TIMEOUT = 120.0
_PROBE_TIMEOUT = 20.0
# Run by the target's interpreter: where its headers are, what it names extensions, how it
# compiles them.
_PROBE = (
    "import sysconfig as s\n"
    "v = s.get_config_var\n"
    "print(s.get_paths()['include'])\n"
    "print(v('EXT_SUFFIX') or '')\n"
    "print(v('CC') or 'cc')\n"
    "print(v('CCSHARED') or '-fPIC')\n"
)


class WalkerUnavailable(Exception):
    """Why the target gets the pure-Python walker (one line)."""


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/heaptui/walk`` (``~/.cache/heaptui/walk`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "heaptui" / "walk"


def walker_for(
    version: tuple[int, int] | None,
    executable: str | None,
    *,
    target_uid: int,
    timeout: float = BUILD_TIMEOUT,
) -> tuple[str | None, str]:
    """Return ``(path of the library to load, note)``; the path is None when there is none.

    The note says which walker the target will get and, for the fallback, why.
    """
    try:
        path = _library_for(version, executable, target_uid, timeout)
    except WalkerUnavailable as exc:
        return None, f"the target gets the pure-Python walker: {exc}"
    return str(path), "compiled walker"


def _library_for(
    version: tuple[int, int] | None, executable: str | None, target_uid: int, timeout: float
) -> Path:
    if os.environ.get("HEAPTUI_WALKER", "").strip().lower() == "python":
        raise WalkerUnavailable("HEAPTUI_WALKER=python")
    if target_uid != os.geteuid():
        raise WalkerUnavailable("the process belongs to another user (no shared cache)")
    settings: list[str] | None = None
    failure: WalkerUnavailable | None = None
    if executable is not None:
        try:
            settings = _build_settings(executable)
        except WalkerUnavailable as exc:
            failure = exc
    own = _own_build() if version is not None and version == sys.version_info[:2] else None
    # The viewer's build fits a target of the same version and the same ABI (its extensions'
    # suffix: a free-threaded or debug build of that version has another), or of the same
    # version when its interpreter cannot be asked.
    if own is not None and (settings is None or own.name == "_walk" + settings[1]):
        return _cached_copy(own)
    if settings is None:
        raise failure or WalkerUnavailable("its interpreter could not be found")
    return _built_for(settings, timeout)


def _own_build() -> Path | None:
    """The viewer's own build of the C walk, if it has one."""
    try:
        from heaptui.capture import _walk  # type: ignore[attr-defined]
    except ImportError:
        return None
    return Path(_walk.__file__)


def _private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) 0700 and check it is ours and not a symlink."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(path)
    if os.path.islink(path) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise WalkerUnavailable(f"{path} is not a private directory of yours")
    return path


def _abi_tag(suffix: str) -> str:
    """``.cpython-313-x86_64-linux-gnu.so`` -> ``cpython-313-x86_64-linux-gnu``."""
    return suffix.strip(".").rsplit(".", 1)[0] or "unknown"


def _cached_copy(library: Path) -> Path:
    """A copy of ``library`` in the cache, named by its content (made once)."""
    data = library.read_bytes()
    suffix = library.name[len("_walk") :]
    digest = hashlib.sha256(data).hexdigest()[:16]
    directory = _private_dir(cache_root()) / f"{_abi_tag(suffix)}-{digest}"
    target = directory / library.name
    if not target.is_file():
        _private_dir(directory)
        write_bytes_atomically(data, str(target), mode=0o700)
    return target


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for name in WALK_SOURCES:
        path = _CAPTURE_DIR / name
        try:
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError as exc:
            raise WalkerUnavailable(f"heaptui's C sources are not installed ({name})") from exc
    return digest.hexdigest()[:16]


def _run(command: list[str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise WalkerUnavailable(f"{what} took longer than {timeout:g} s") from None
    except OSError as exc:
        raise WalkerUnavailable(f"{what} could not run: {exc.strerror or exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["exit status " + str(done.returncode)])[-1]
        raise WalkerUnavailable(f"{what} failed: {last.strip()}")
    return done.stdout


def _build_settings(executable: str) -> list[str]:
    """The target interpreter's include directory, extension suffix, compiler and its flags."""
    probe = _run(
        [executable, "-I", "-S", "-c", _PROBE],
        _PROBE_TIMEOUT,
        "asking the target's interpreter for its build settings",
    ).splitlines()
    if len(probe) < 4 or not probe[1]:
        raise WalkerUnavailable("the target's interpreter gave no build settings")
    return probe[:4]


def _built_for(settings: list[str], timeout: float) -> Path:
    """The C walk built for the interpreter of ``settings`` (built into the cache once)."""
    include, suffix, cc, ccshared = settings
    if not os.path.isfile(os.path.join(include, "Python.h")):
        raise WalkerUnavailable(f"the target's Python headers are not installed ({include})")
    directory = _private_dir(cache_root()) / f"{_abi_tag(suffix)}-{_sources_digest()}"
    target = directory / ("_walk" + suffix)
    _private_dir(directory)
    if target.is_file():
        return target
    compiler = shutil.which(cc.split()[0]) if cc.split() else None
    if compiler is None:
        compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise WalkerUnavailable("no C compiler to build it for the target's Python")
    with tempfile.TemporaryDirectory(dir=directory, prefix=".build-") as build:
        out = os.path.join(build, target.name)
        sources = [str(_CAPTURE_DIR / n) for n in WALK_SOURCES if n.endswith(".c")]
        command = [
            compiler, *cc.split()[1:], *ccshared.split(), "-shared", "-O2",
            "-fno-strict-aliasing", "-I", include, "-I", str(_CAPTURE_DIR),
            *sources, "-o", out,
        ]  # fmt: skip
        _run(command, timeout, f"building the compiled walker for {_abi_tag(suffix)}")
        os.chmod(out, 0o700)
        os.replace(out, target)
    return target
