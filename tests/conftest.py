"""Puts this folder on ``sys.path`` (pytest's default import mode adds a conftest's folder), so
every test directory imports the one shared column-built heap builder, ``heaps``."""
