"""Build the code sent into a process being attached: the agent's source plus a call to boot.

The target may not have heaptui at all, or have another version of it. So the payload carries
the source of every heaptui module the agent needs (found by following its imports, all
standard library only) and :mod:`.target_boot`, which loads them under a private package
name. They are shipped as they are: every shipped module imports heaptui modules relatively
(``from ..core import procinfo``), so its imports resolve within the private package. The
payload is a single expression statement, ``exec(<source>, {fresh namespace})``, so running it
in the target's ``__main__`` (which is what both ``PyRun_SimpleString`` and
``sys.remote_exec`` do) binds no name there.
"""

from __future__ import annotations

import ast
import functools
import secrets
from pathlib import Path

import heaptui
from heaptui.core.atomic import write_bytes_atomically

AGENT_MODULE = "heaptui.transport.agent"
_ROOT = Path(heaptui.__file__).resolve().parent
_BOOT_FILE = Path(__file__).resolve().with_name("target_boot.py")


@functools.lru_cache(maxsize=64)
def _parsed_at(path: Path, mtime_ns: int) -> tuple[str, ast.Module]:
    source = path.read_text(encoding="utf-8")
    return source, ast.parse(source, str(path))


def _parsed(path: Path) -> tuple[str, ast.Module]:
    """The source of ``path`` and its syntax tree, parsed once per version of the file."""
    return _parsed_at(path, path.stat().st_mtime_ns)


def module_file(name: str) -> Path | None:
    """Return the source file of heaptui module ``name``, or None if it has no .py source."""
    parts = name.split(".")[1:]
    base = _ROOT.joinpath(*parts)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def import_statements(
    tree: ast.AST, *, skip_type_checking: bool = True
) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (statements only: fast), in source order."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
            continue
        if skip_type_checking and _is_type_checking_block(node):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                stack.extend(c for c in children if isinstance(c, ast.AST))
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def _imported_heaptui_modules(name: str, tree: ast.AST, is_package: bool) -> set[str]:
    found: set[str] = set()
    for node in import_statements(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "heaptui")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "heaptui":
                continue
            found.add(module)
            found.update(f"{module}.{a.name}" for a in node.names)  # submodules, if files
    return found


def agent_closure(start: str = AGENT_MODULE) -> dict[str, Path]:
    """Return ``{module name: source file}`` for ``start`` and every heaptui module it imports.

    Parent packages are included (importing ``a.b`` runs ``a/__init__``). Names without a .py
    source (attributes, C extensions) are left out; the agent falls back where it can.
    """
    todo = [start]
    files: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        if name in files:
            continue
        path = module_file(name)
        if path is None:
            continue
        files[name] = path
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
        tree = _parsed(path)[1]
        todo.extend(_imported_heaptui_modules(name, tree, path.name == "__init__.py"))
    return files


def private_package_name() -> str:
    """A fresh package name per injection: never the same as any module of the target."""
    return f"_heaptui_attach_{secrets.token_hex(4)}"


def build_payload(
    *, directory: str, socket_dir: str, package: str | None = None, extension: str | None = None
) -> str:
    """Return the Python source to run in the target's ``__main__``.

    ``extension``: the private copy of the C walk the agent loads as its compiled walker
    (:mod:`heaptui.transport.attach.viewer_walker`); without it, the agent walks in pure Python.
    """
    package = package or private_package_name()
    sources: dict[str, tuple[str, bool]] = {}
    # Parents before children, so the import order is the natural one.
    for name, path in sorted(agent_closure().items()):
        private = package + name[len("heaptui") :]
        sources[private] = (_parsed(path)[0], path.name == "__init__.py")
    params = {"dir": directory, "socket_dir": socket_dir, "package": package}
    if extension:
        params["extension"] = extension
    program = _BOOT_FILE.read_text(encoding="utf-8")
    program += f"\n\nboot({params!r}, {sources!r})\n"
    return f"exec({program!r}, {{'__name__': '__heaptui_attach__'}})\n"


def write_payload(path: str, payload: str, *, owner: int | None = None) -> None:
    """Write the payload readable only by its owner; it appears at ``path`` complete.

    ``owner``: the target's uid when it reads the file itself (``sys.remote_exec``). Not synced
    to disk: the file is read at once and removed.
    """
    write_bytes_atomically(payload.encode("utf-8"), path, owner=owner, durable=False)
