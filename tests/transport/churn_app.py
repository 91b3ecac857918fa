"""A service with heavy churn and one slow leak, for the watch tests.

Every tick: a bounded cache (``Entry``) fills and is emptied when full, request temporaries
(``Request``, ``Scratch``) come and go, and one ``Session`` (with its dict of attributes) is
kept for good in ``_SESSIONS``. Runs until killed (or ``argv[1]`` seconds); prints "ready".
"""

import random
import sys
import time


class Session:
    def __init__(self, n):
        self.n = n
        self.user = f"user-{n}"
        self.history = [n, n + 1]


class Entry:
    def __init__(self, key):
        self.key = key
        self.value = [key] * 4


class Request:
    def __init__(self, i):
        self.i = i
        self.headers = {"x": i}


class Scratch:
    __slots__ = ("data",)

    def __init__(self, i):
        self.data = [i] * 8


_SESSIONS = []
_CACHE = {}
_LIVE = []


def tick(i, rng):
    if len(_CACHE) >= 400:
        _CACHE.clear()
    for _ in range(rng.randint(20, 60)):
        k = rng.randint(0, 10_000)
        _CACHE[k] = Entry(k)
    _LIVE[:] = [Request(j) for j in range(rng.randint(0, 300))]
    _LIVE.extend(Scratch(j) for j in range(rng.randint(0, 300)))
    if i % 2 == 0:
        _SESSIONS.append(Session(i))


def main():
    rng = random.Random(7)
    stop = time.monotonic() + float(sys.argv[1]) if len(sys.argv) > 1 else None
    print("ready", flush=True)
    i = 0
    while stop is None or time.monotonic() < stop:
        tick(i, rng)
        i += 1
        time.sleep(0.05)


if __name__ == "__main__":
    main()
