"""Grows past a memory limit: ``Blob`` objects of 1 MB each until RSS reaches argv[1] bytes,
then waits a few seconds (for the agent's RSS watch to dump) and exits."""

import sys
import time


class Blob(bytearray):
    """A buffer of the program's own type (its report row is the 1 MB objects themselves)."""


def rss():
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * 4096


HELD = []
target = int(sys.argv[1])
while rss() < target:
    HELD.append(Blob(1 << 20))
print(f"grown to {rss()} with {len(HELD)} blobs", flush=True)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 6.0)
