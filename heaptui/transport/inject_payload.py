"""Build the code sent into a process being attached: the agent's source plus a call to boot.

The target may not have heaptui at all, or have another version of it. So the payload carries
the source of every heaptui module the agent needs (found by following its imports, all
standard library only), with ``heaptui`` renamed to a private package name in their import
statements, and :mod:`heaptui.transport.inject_boot` to load them. The payload is a single
expression statement, ``exec(<source>, {fresh namespace})``, so running it in the target's
``__main__`` (which is what both ``PyRun_SimpleString`` and ``sys.remote_exec`` do) binds no
name there.
"""

from __future__ import annotations

import ast
import os
import secrets
from pathlib import Path

import heaptui

AGENT_MODULE = "heaptui.transport.agent"
_ROOT = Path(heaptui.__file__).resolve().parent
_BOOT_FILE = Path(__file__).resolve().with_name("inject_boot.py")


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


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node that can run, leaving out ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        found.append(node)
        for child in ast.iter_child_nodes(node):
            if not _is_type_checking_block(child):
                stack.append(child)
    return found


def _imported_heaptui_modules(name: str, tree: ast.AST, is_package: bool) -> set[str]:
    found: set[str] = set()
    for node in _runtime_nodes(tree):
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
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        todo.extend(_imported_heaptui_modules(name, tree, path.name == "__init__.py"))
    return files


class _RenameHeaptui(ast.NodeTransformer):
    """Point absolute ``heaptui`` imports at the private package."""

    def __init__(self, package: str) -> None:
        self.package = package

    def _renamed(self, module: str) -> str:
        return self.package + module[len("heaptui") :]

    def visit_Import(self, node: ast.Import) -> ast.AST | list[ast.AST]:
        binds_heaptui = False
        for alias in node.names:
            if alias.name.split(".")[0] != "heaptui":
                continue
            if alias.asname is None:  # 'import heaptui.x' binds the name 'heaptui'
                binds_heaptui = True
            alias.name = self._renamed(alias.name)
        if not binds_heaptui:
            return node
        rebind = ast.Assign(
            targets=[ast.Name("heaptui", ast.Store())], value=ast.Name(self.package, ast.Load())
        )
        return [node, ast.copy_location(rebind, node)]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.ImportFrom:
        if node.level == 0 and node.module and node.module.split(".")[0] == "heaptui":
            node.module = self._renamed(node.module)
        return node


def renamed_source(source: str, package: str) -> str:
    """Return ``source`` with its heaptui imports pointing at ``package``."""
    tree = _RenameHeaptui(package).visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


def private_package_name() -> str:
    """A fresh package name per injection: never the same as any module of the target."""
    return f"_heaptui_attach_{secrets.token_hex(4)}"


def build_payload(*, directory: str, socket_dir: str, package: str | None = None) -> str:
    """Return the Python source to run in the target's ``__main__``."""
    package = package or private_package_name()
    sources: dict[str, tuple[str, bool]] = {}
    # Parents before children, so the import order is the natural one.
    for name, path in sorted(agent_closure().items()):
        private = package + name[len("heaptui") :]
        text = renamed_source(path.read_text(encoding="utf-8"), package)
        sources[private] = (text, path.name == "__init__.py")
    params = {"dir": directory, "socket_dir": socket_dir, "package": package}
    program = _BOOT_FILE.read_text(encoding="utf-8")
    program += f"\n\nboot({params!r}, {sources!r})\n"
    return f"exec({program!r}, {{'__name__': '__heaptui_attach__'}})\n"


def write_payload(path: str, payload: str) -> None:
    """Write the payload file readable only by its owner."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(payload)
