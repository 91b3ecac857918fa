"""The RSS watch: limits parsed, one dump per crossing, never more than keep."""

from __future__ import annotations

import pytest

from heaptui.transport import rsswatch


def test_parse_limit() -> None:
    assert rsswatch.parse_limit("2GiB") == 2 << 30
    assert rsswatch.parse_limit("500MB") == 500_000_000
    assert rsswatch.parse_limit(" 1.5 g ") == 1_500_000_000
    assert rsswatch.parse_limit("123456") == 123456
    assert rsswatch.parse_limit("80%", total=lambda: 1000) == 800
    for bad in ("lots", "-1GB", "0", "120%", "5 parsecs", "x%"):
        with pytest.raises(ValueError):
            rsswatch.parse_limit(bad, total=lambda: 1000)
    with pytest.raises(ValueError, match="memory size"):
        rsswatch.parse_limit("50%", total=lambda: None)


def test_memory_limit_is_known_here() -> None:
    limit = rsswatch.memory_limit()
    assert limit is None or limit > 1 << 20


def test_env_options() -> None:
    env = {"HEAPTUI_DUMP_AT_RSS": "1GB", "HEAPTUI_DUMP_DIR": "/tmp/x", "HEAPTUI_DUMP_KEEP": "2"}
    assert rsswatch.options_from_env(env) == {
        "dump_at_rss": "1GB",
        "dump_dir": "/tmp/x",
        "dump_keep": 2,
    }
    assert rsswatch.options_from_env({"HEAPTUI_DUMP_DIR": "/tmp/x"}) == {}


def test_one_dump_per_crossing_and_at_most_keep(monkeypatch) -> None:
    rss = [100]
    dumps: list[str] = []

    def dump() -> str:
        dumps.append(f"d{len(dumps)}")
        return dumps[-1]

    watch = rsswatch.RssWatch(1000, dump, keep=2, min_gap=0.0, read_rss=lambda: rss[0])
    assert watch.check() is None
    rss[0] = 1000
    assert watch.check() == "d0"
    assert watch.check() is None  # still above, but not 10 % more
    rss[0] = 1050
    assert watch.check() is None
    rss[0] = 1200
    assert watch.check() == "d1"
    rss[0] = 5000
    assert watch.check() is None  # keep reached
    assert dumps == ["d0", "d1"]


def test_the_gap_between_dumps(monkeypatch) -> None:
    rss = [2000]
    watch = rsswatch.RssWatch(1000, lambda: "p", keep=5, min_gap=3600, read_rss=lambda: rss[0])
    assert watch.check() == "p"
    rss[0] = 10_000
    assert watch.check() is None


def test_unknown_rss_never_dumps() -> None:
    watch = rsswatch.RssWatch(1, lambda: "p", read_rss=lambda: None)
    assert watch.check() is None
