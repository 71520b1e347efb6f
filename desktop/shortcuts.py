"""Every keyboard shortcut of the window, written once: the keys bound, the menus' shortcuts and the Help list.

A shortcut's ``keys`` are Qt's portable key names, bound in order to the slots the window gives it (Up and Down
step the attribute overlay back and forward); Help shows them as ``label``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL",
    "ATTRIBUTE",
    "BACK",
    "COMPARE",
    "EXPLORER",
    "LANDMARKS",
    "LOAD_MODEL",
    "NEXT_FACE",
    "NO_OVERLAY",
    "OPEN_FOLDER",
    "OPEN_IMAGES",
    "OPEN_VIDEO",
    "PAUSE",
    "QUIT",
    "SNAPSHOT",
    "STEP",
    "TABS",
    "Shortcut",
]


@dataclass(frozen=True)
class Shortcut:
    keys: tuple[str, ...]
    """Qt portable key names (``QKeySequence(key)``), one per slot."""
    does: str
    shown: str | None = None
    """How Help writes the keys, when not ``A / B``."""

    @property
    def label(self) -> str:
        return self.shown or " / ".join(self.keys)

    @property
    def window_wide(self) -> bool:
        """Ctrl shortcuts work in every tab; plain keys only while the focus is in the Live tab (arrows keep
        working in other tabs' spin boxes)."""
        return all(key.startswith("Ctrl+") for key in self.keys)


PAUSE = Shortcut(("Space",), "pause / resume")
SNAPSHOT = Shortcut(("S",), "snapshot (PNG + JSON)")
ATTRIBUTE = Shortcut(("Up", "Down"), "previous / next attribute overlay (panel order)")
STEP = Shortcut(("Left", "Right"), "previous / next image, or one video frame back / forward (pauses)")
NO_OVERLAY = Shortcut(("Esc",), "no overlay")
BACK = Shortcut(("Backspace",), "back to the list a video was played from")
LANDMARKS = Shortcut(("L",), "landmarks on / off")
EXPLORER = Shortcut(("G",), "video / attention explorer")
NEXT_FACE = Shortcut(("F",), "next face")
OPEN_IMAGES = Shortcut(("Ctrl+O",), "open images")
OPEN_VIDEO = Shortcut(("Ctrl+Shift+O",), "open video")
OPEN_FOLDER = Shortcut(("Ctrl+Alt+O",), "open a folder (recursive)")
LOAD_MODEL = Shortcut(("Ctrl+M",), "load a model bundle")
COMPARE = Shortcut(("Ctrl+Shift+M",), "compare with a second model (side by side)")
TABS = Shortcut(("Ctrl+1", "Ctrl+2", "Ctrl+3"), "Live / Training / Dashboard tab", shown="Ctrl+1 / 2 / 3")
QUIT = Shortcut(("Ctrl+Q",), "quit")

ALL: tuple[Shortcut, ...] = (
    PAUSE,
    SNAPSHOT,
    ATTRIBUTE,
    STEP,
    NO_OVERLAY,
    BACK,
    LANDMARKS,
    EXPLORER,
    NEXT_FACE,
    OPEN_IMAGES,
    OPEN_VIDEO,
    OPEN_FOLDER,
    LOAD_MODEL,
    COMPARE,
    TABS,
    QUIT,
)
"""Help › Keyboard shortcuts, in this order."""
