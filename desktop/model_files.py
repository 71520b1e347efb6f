"""Model bundles as the user sees them: a readable label and loading one from disk.

Every training run writes ``<run folder>/model.pt``, so the file name alone says nothing ("model.pt",
"model.pt", …): a bundle that lives in a run folder is labelled ``<run folder>/model.pt``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from attricam.engine.bundle import BundleError, ModelBundle, default_bundle_path

__all__ = ["bundle_label", "choose_bundle"]


def bundle_label(bundle: ModelBundle) -> str:
    """``runs/focal-3/model.pt`` -> "focal-3/model.pt"; the shipped bundle and in-memory ones keep their name."""
    path = bundle.path
    if path is None or path.resolve() == default_bundle_path().resolve() or not path.parent.name:
        return bundle.name
    return f"{path.parent.name}/{path.name}"


def choose_bundle(parent: QWidget, start_folder: str) -> tuple[ModelBundle | None, str]:
    """Ask for a ``.pt`` bundle and load it: (bundle, "") / (None, reason) / (None, "") when cancelled."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Load a model bundle", start_folder, "Model bundles (*.pt);;All files (*)"
    )
    if not path:
        return None, ""
    try:
        return ModelBundle.load(path), ""
    except BundleError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a random file picked by mistake: say why, keep the app alive
        return None, f"{Path(path).name}: not a model bundle ({type(exc).__name__}: {exc})"
