"""heaptui's version, said in one place: the package, snapshot metadata and the agent's hello.

A module of its own (not ``heaptui.__version__`` looked up at run time) so that an agent
injected under a private package name reports the version of the code that runs, not that of
some other heaptui the target may have installed.
"""

VERSION = "0.1.0"
