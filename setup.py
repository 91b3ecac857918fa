"""Build heaptui's optional C extensions: the capture accelerator and the dominator tree.

Project metadata lives in pyproject.toml; this file only declares the extension. It is
``optional``: where no compiler is available, ``pip install .`` still installs heaptui, and the
capture falls back to the pure-Python walker.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "heaptui.capture._walk",
            sources=[
                "heaptui/capture/_walk.c",
                "heaptui/capture/_columns.c",
                "heaptui/capture/_typeinfo.c",
                "heaptui/capture/_texts.c",
                "heaptui/capture/_edges.c",
                "heaptui/capture/_foreign.c",
                "heaptui/capture/_strtab.c",
                "heaptui/capture/_frames.c",
            ],
            depends=[
                "heaptui/capture/_walk.h",
                "heaptui/capture/_addrset.h",
                "heaptui/capture/_internal.h",
                "heaptui/capture/_frames.h",
                "heaptui/capture/_strtab.h",
                "heaptui/capture/_vec.h",
                "heaptui/capture/_views.h",
            ],
            optional=True,
        ),
        # The per-type census of `heaptui watch`; heaptui.capture.census counts in Python where
        # this was not built.
        Extension(
            "heaptui.capture._census",
            sources=["heaptui/capture/_census.c"],
            optional=True,
        ),
        # Lengauer-Tarjan dominators over CSR arrays; heaptui.model.dominators_python is the
        # fallback with the same answers where this was not built.
        Extension(
            "heaptui.model.dominators_native",
            sources=["heaptui/model/dominators_native.c"],
            optional=True,
        ),
    ]
)
