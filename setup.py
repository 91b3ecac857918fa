"""Build the optional C accelerator of the heap capture (heaptui.capture._walk).

Project metadata lives in pyproject.toml; this file only declares the extension. It is
``optional``: where no compiler is available, ``pip install .`` still installs heaptui, and the
capture falls back to the pure-Python walker.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "heaptui.capture._walk",
            sources=["heaptui/capture/_walk.c"],
            optional=True,
        )
    ]
)
