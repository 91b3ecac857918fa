"""Command palette provider: the app's actions by name (the same ones the keys run)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from heaptui.ui.keys import PALETTE_COMMANDS


class HeapCommands(Provider):
    """Offers every entry of :data:`heaptui.ui.keys.PALETTE_COMMANDS`."""

    async def discover(self) -> Hits:
        for command in PALETTE_COMMANDS:
            yield DiscoveryHit(
                command.title, partial(self.app.run_action, command.action), help=command.help
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in PALETTE_COMMANDS:
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(command.title),
                    partial(self.app.run_action, command.action),
                    text=command.title,
                    help=command.help,
                )
