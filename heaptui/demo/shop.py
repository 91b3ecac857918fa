"""A tiny web-shop request handler with two leaks, for ``heaptui demo``.

Imported by :mod:`leaky_app` as the top-level module ``shop`` (not ``heaptui.demo.shop``), so
its classes show up as the user's own types (``shop.Session``), as they would in a real app.

The leaks, as they happen in real services:

- every request stores its ``Session`` in the module-level ``SESSIONS`` dict, which nothing
  ever evicts;
- every ``RequestHandler`` subscribes a ``Listener`` to the class-level
  ``RequestHandler.listeners`` list and never unsubscribes; the listener's bound method keeps
  the whole handler (and its last request) alive.
"""

from __future__ import annotations

from typing import ClassVar

SESSIONS: dict[str, Session] = {}  # the cache that is never evicted


class Session:
    """Per-user state: who, their cart, and the last page they rendered."""

    __slots__ = ("cart", "number", "page", "token", "user", "visits")

    def __init__(self, user: str, request_number: int) -> None:
        self.user = user
        self.cart: list[str] = [f"item-{request_number % 17}", f"item-{request_number % 5}"]
        self.page = ("<html>" + f"cart of {user} " * 20 + "</html>").encode()
        self.number = request_number
        self.token = f"{request_number:08x}"
        self.visits = 1

    def __repr__(self) -> str:
        return f"<Session {self.user}>"


class Listener:
    """A callback registered for shop events."""

    def __init__(self, callback: object) -> None:
        self.callback = callback

    def __repr__(self) -> str:
        return "<Listener>"


class RequestHandler:
    """Handles one request; subscribes to events when created (and never unsubscribes)."""

    listeners: ClassVar[list[Listener]] = []

    def __init__(self, request_number: int) -> None:
        self.request_number = request_number
        self.last_headers: dict[str, str] = {}
        RequestHandler.listeners.append(Listener(self.on_event))

    def on_event(self, event: str) -> None:
        self.last_headers["x-event"] = event

    def handle(self, user: str, headers: dict[str, str]) -> str:
        self.last_headers = dict(headers)
        session = SESSIONS.get(user)
        if session is None:
            session = SESSIONS[user] = Session(user, self.request_number)
        return f"200 OK {len(session.cart)} items for {session.user}"


def serve(first: int, count: int, distinct_users: bool) -> int:
    """Serve ``count`` requests; with ``distinct_users`` each one is a new user (the leak)."""
    done = 0
    for number in range(first, first + count):
        user = f"user:{number}" if distinct_users else f"user:{number % 10}"
        handler = RequestHandler(number)
        handler.handle(user, {"path": "/cart", "agent": "demo"})
        done += 1
    return done
