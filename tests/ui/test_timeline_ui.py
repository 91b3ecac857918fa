"""The Timeline pane: charts of RSS and the Python heap, and the flagged types with theirs."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Label, Sparkline, Static

from heaptui.cli import main
from heaptui.model.timeline import append_line, sample_record, watch_record
from heaptui.ui.timeline import TimelineApp


def _timeline(path: Path, n: int = 30) -> None:
    append_line(str(path), watch_record(7, ["app.py"], 10.0, 0.0))
    for i in range(n):
        cache = (i * 37) % 400
        append_line(
            str(path),
            sample_record(
                {
                    "time": 10.0 * i,
                    "rss": 40_000_000 + 100_000 * i,
                    "heap_bytes": 10_000_000 + 90_000 * i,
                    "objects": 5000,
                    "types": {
                        "app.Session": [10 + 3 * i, 56 * (10 + 3 * i)],
                        "app.Entry": [cache, 56 * cache],
                    },
                }
            ),
        )


async def test_the_pane_shows_the_charts_and_the_leak(tmp_path: Path) -> None:
    path = tmp_path / "w.timeline"
    _timeline(path)
    app = TimelineApp(str(path))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        summary = str(app.query_one("#timeline-summary", Static).render())
        assert "30 samples" in summary and "Python-side" in summary
        assert len(app.query_one("#rss-chart", Sparkline).data) == 30
        labels = [str(label.render()) for label in app.query(Label)]
        assert any("LEAK app.Session" in text and "Session/min" in text for text in labels)
        assert not any("app.Entry" in text for text in labels)
        assert len(app.query(".leak-chart")) == 1
        # The file grows while shown: r re-reads it.
        _timeline(path, n=0)  # another watch line, no samples
        await pilot.press("r")
        await pilot.pause()
        assert app.error is None


def test_open_timeline_refuses_a_bad_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "bad.timeline"
    path.write_text("not json\n")
    assert main(["open", "--timeline", str(path)]) == 2
    assert "line 1" in capsys.readouterr().err
