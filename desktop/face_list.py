"""The faces of the current frame; picking one drives the attribute panel and explorer."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QListWidget, QWidget

from attricam.engine.results import FaceResult, FrameResult

__all__ = ["FaceList"]


class FaceList(QListWidget):
    faceSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FaceList")
        self.setMaximumHeight(90)
        self._ids: list[int] = []
        self.currentRowChanged.connect(self._row_changed)

    def set_faces(self, result: FrameResult | None, selected: int | None) -> None:
        """Rebuild only when the ids change, so a click is not lost between frames; texts follow every call
        (the next image of a filmstrip has face #0 again, but not the same size)."""
        faces = list(result.faces) if result is not None else []
        ids = [f.face_id for f in faces]
        if ids != self._ids:
            self.blockSignals(True)
            self.clear()
            self.addItems([_face_text(face) for face in faces])
            self._ids = ids
            self.blockSignals(False)
        else:
            for row, face in enumerate(faces):
                item = self.item(row)
                text = _face_text(face)
                if item.text() != text:
                    item.setText(text)
        row = ids.index(selected) if selected in ids else -1
        if row != self.currentRow():
            self.blockSignals(True)
            self.setCurrentRow(row)
            self.blockSignals(False)

    def _row_changed(self, row: int) -> None:
        if 0 <= row < len(self._ids):
            self.faceSelected.emit(self._ids[row])


def _face_text(face: FaceResult) -> str:
    w, h = int(face.box[2] - face.box[0]), int(face.box[3] - face.box[1])
    return f"Face #{face.face_id}   {w}x{h}px   score {face.score:.2f}"
