"""The pytest plugin (entry point ``heaptui`` in the ``pytest11`` group; ``-p no:heaptui``).

- ``@pytest.mark.no_leaks(rounds=3, warmup=2, ignore=(), allow_bytes=0)`` runs the test body
  ``warmup + rounds`` times and fails the test when objects accumulate with the runs, naming
  each growing type, its count per run and who holds it (see :mod:`heaptui.leakcheck`).
- ``--heaptui-leaks`` does the same for every test (the marker's arguments still apply).
- Fixtures: ``heaptui_snapshot`` (call it for a model ``Snapshot`` of the heap now; its
  ``.diff(base)`` compares) and ``heaptui_baseline`` (a snapshot taken before the test body).

Loaded by every pytest run where heaptui is installed, so importing it stays light: the check
itself (numpy, the model) is imported only when a test asks for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from heaptui.leakcheck import HeapSnapshots
    from heaptui.model.snapshot import Snapshot

MARKER = "no_leaks"
_DEFAULTS = {"rounds": 3, "warmup": 2, "ignore": (), "allow_bytes": 0}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("heaptui", "heaptui leak checks")
    group.addoption(
        "--heaptui-leaks",
        action="store_true",
        default=False,
        help="run every test body several times and fail it when objects accumulate "
        "(as if it were marked @pytest.mark.no_leaks)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(rounds=3, warmup=2, ignore=(), allow_bytes=0): run the test body "
        "warmup + rounds times and fail when objects of some type accumulate with every run "
        "(ignore: types or type names; allow_bytes: growth per run that is tolerated)",
    )


def _settings(item: pytest.Function) -> dict[str, Any] | None:
    """The marker's arguments over the defaults, or None when this test is not checked."""
    marker = item.get_closest_marker(MARKER)
    if marker is None and not item.config.getoption("heaptui_leaks"):
        return None
    settings = dict(_DEFAULTS)
    if marker is not None:
        if marker.args:
            pytest.fail(f"{MARKER}: pass options by name, e.g. rounds=3", pytrace=False)
        unknown = set(marker.kwargs) - set(_DEFAULTS)
        if unknown:
            pytest.fail(f"{MARKER}: unknown option {sorted(unknown)[0]!r}", pytrace=False)
        settings.update(marker.kwargs)
    ignore = settings["ignore"]
    settings["ignore"] = (ignore,) if isinstance(ignore, (str, type)) else tuple(ignore)
    for key in ("rounds", "warmup", "allow_bytes"):
        value = settings[key]
        if type(value) is not int or value < (1 if key == "rounds" else 0):
            least = 1 if key == "rounds" else 0
            pytest.fail(f"{MARKER}: {key} must be an integer >= {least}", pytrace=False)
    return settings


def _save_dir(item: pytest.Function) -> str | None:
    factory = getattr(item.config, "_tmp_path_factory", None)
    if factory is None:
        return None
    return str(factory.getbasetemp() / "heaptui-leaks")


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, Any, Any]:
    """Swap the test function for one that runs it in rounds; fail on a leak."""
    settings = _settings(pyfuncitem)
    original = pyfuncitem.obj
    if settings is None or inspect.iscoroutinefunction(original):
        return (yield)
    from heaptui.leakcheck import check_leaks

    outcome: list[Any] = []

    def run_in_rounds(**kwargs: Any) -> Any:
        found, value = check_leaks(
            lambda: original(**kwargs),
            name=pyfuncitem.nodeid,
            save_dir=_save_dir(pyfuncitem),
            **settings,
        )
        outcome.append(found)
        return value

    pyfuncitem.obj = run_in_rounds
    try:
        value = yield
    finally:
        pyfuncitem.obj = original
    if outcome and outcome[0].leaked:
        pytest.fail(outcome[0].message(), pytrace=False)
    return value


@pytest.fixture
def heaptui_snapshot() -> HeapSnapshots:
    """Call it for a model ``Snapshot`` of the heap now (garbage collected first).

    Earlier snapshots of the same test are left out of later ones; ``.diff(base, now=None)``
    returns a ``HeapDiff`` (``growth``, ``count_delta(type)``, ``suspects()``, ``report()``).
    """
    from heaptui.leakcheck import HeapSnapshots

    return HeapSnapshots()


@pytest.fixture
def heaptui_baseline(heaptui_snapshot: HeapSnapshots) -> Snapshot:
    """A model ``Snapshot`` taken when the fixture is set up, before the test body runs."""
    return heaptui_snapshot()
