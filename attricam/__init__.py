"""AttriCam: live facial-attribute analysis. ``attricam`` with no arguments opens the desktop app."""

__version__ = "0.1.0"
"""The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``)."""
