"""Source toolbar: camera and resolution pickers, open file, filmstrip navigation, play controls.

Video files also get a seek bar and a loop toggle; both are hidden for cameras and stills. The bar fits a
window 1024 logical pixels wide (a 1280x720 screen at 125 %): the resolution picker shows only while a camera
is the source, and a long position text ("3 / 12  a-long-file-name.jpg") ends in "…" rather than widen the window.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractSlider,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

from .sources import CAMERA_RESOLUTIONS, SourceSpec

__all__ = ["ElidedLabel", "SeekSlider", "SourceBar"]


class ElidedLabel(QLabel):
    """A one-line label that may be narrower than its text: the middle then becomes "…" (``text()`` and the
    tooltip keep it whole)."""

    def __init__(self, minimum_width: int = 120, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._minimum_width = minimum_width
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:
        return QSize(self._minimum_width, super().minimumSizeHint().height())

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, rect.width())
        painter.drawText(rect, int(self.alignment()), text)
        painter.end()


class SeekSlider(QSlider):
    """A horizontal slider whose groove jumps to the clicked place (not one page towards it); the handle then
    follows the mouse as usual, so a click that becomes a drag goes on from there."""

    jumped = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)

    def value_at(self, x: float) -> int:
        """The value whose handle centre sits at widget x-coordinate ``x``."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self)
        span = max(groove.width() - handle.width(), 1)
        offset = round(x - groove.x() - handle.width() / 2)
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), offset, span, option.upsideDown)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(event.position().toPoint()):
                value = self.value_at(event.position().x())
                self.setValue(value)
                self.jumped.emit(value)
        super().mousePressEvent(event)  # on the handle now: a drag starts from the clicked place


class SourceBar(QWidget):
    cameraChosen = Signal(object)  # SourceSpec
    openVideoRequested = Signal()
    openImagesRequested = Signal()
    pauseToggled = Signal(bool)
    stepRequested = Signal(int)
    snapshotRequested = Signal()
    seekRequested = Signal(int)  # 0-based video frame
    loopToggled = Signal(bool)
    playItemRequested = Signal()  # a filmstrip's video item: play it
    backRequested = Signal()  # back to the filmstrip a video was played from

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SourceBar")
        self.camera_box = QComboBox()
        self.camera_box.setMinimumWidth(100)
        self.camera_box.setToolTip("Camera")
        self.camera_box.addItem("Looking for cameras…", None)
        self.resolution_box = QComboBox()
        self.resolution_box.setToolTip("Camera resolution")
        self.resolution_box.hide()  # until a camera is the source
        for w, h in CAMERA_RESOLUTIONS:
            self.resolution_box.addItem(f"{w}x{h}", (w, h))
        self.open_video = QPushButton("Open video…")
        self.open_images = QPushButton("Open images…")
        self.prev_button = QToolButton(text="◀")
        self.prev_button.setToolTip("Previous image / step back (←)")
        self.next_button = QToolButton(text="▶")
        self.next_button.setToolTip("Next image / single step (→)")
        self.position = ElidedLabel(120)
        self.seek_slider = SeekSlider()
        self.seek_slider.setObjectName("SeekSlider")
        self.seek_slider.setToolTip("Video position: drag or click to jump")
        self.seek_slider.setMinimumWidth(80)
        self.seek_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows stay frame steps, not slider moves
        self.loop_button = QToolButton(text="Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(True)
        self.loop_button.setToolTip("Start the video again after its last frame")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Pause / resume (Space)")
        self.back_button = QPushButton("◂ Back")
        self.back_button.hide()
        self.snapshot_button = QPushButton("Snapshot")
        self.snapshot_button.setToolTip("Save the annotated frame as PNG + JSON (S)")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.back_button)
        layout.addWidget(self.camera_box)
        layout.addWidget(self.resolution_box)
        layout.addSpacing(8)
        layout.addWidget(self.open_video)
        layout.addWidget(self.open_images)
        layout.addSpacing(8)
        layout.addWidget(self.prev_button)
        layout.addWidget(self.next_button)
        layout.addWidget(self.position)
        layout.addWidget(self.seek_slider, 1)
        layout.addWidget(self.loop_button)
        layout.addWidget(self.pause_button)
        layout.addWidget(self.snapshot_button)

        self.camera_box.activated.connect(self._camera_activated)
        self.resolution_box.activated.connect(self._camera_activated)
        self.open_video.clicked.connect(self.openVideoRequested)
        self.open_images.clicked.connect(self.openImagesRequested)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.prev_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        self.snapshot_button.clicked.connect(self.snapshotRequested)
        self._jumped_to: int | None = None
        self.seek_slider.jumped.connect(self._jumped)
        self.seek_slider.sliderReleased.connect(self._released)
        self.seek_slider.actionTriggered.connect(self._slider_action)
        self.loop_button.toggled.connect(self.loopToggled)
        self.back_button.clicked.connect(self.backRequested)
        self._play_item = False

    def set_cameras(self, indices: list[int]) -> None:
        self.camera_box.clear()
        if not indices:
            self.camera_box.addItem("No camera", None)
        for index in indices:
            self.camera_box.addItem(f"Camera {index}", index)
        self.camera_box.setEnabled(bool(indices))
        self.resolution_box.setEnabled(bool(indices))

    def set_resolution(self, resolution: tuple[int, int]) -> None:
        index = self.resolution_box.findData(tuple(resolution))
        if index >= 0:
            self.resolution_box.setCurrentIndex(index)

    def camera_spec(self) -> SourceSpec | None:
        index = self.camera_box.currentData()
        if index is None:
            return None
        return SourceSpec("camera", camera=int(index), resolution=tuple(self.resolution_box.currentData()))

    def set_paused(self, paused: bool, *, ended: bool = False) -> None:
        """``ended``: a video stopped at its last frame; the button then starts it again."""
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Play again" if paused and ended else "Resume" if paused else "Pause")
        self.pause_button.blockSignals(False)

    def set_play_item(self, playable: bool) -> None:
        """A filmstrip shows a video's first frame: the Pause button becomes "Play video"."""
        if playable == self._play_item:
            return
        self._play_item = playable
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(False)
        self.pause_button.setText("Play video" if playable else "Pause")
        self.pause_button.blockSignals(False)
        self.pause_button.setEnabled(playable)

    def set_back(self, label: str) -> None:
        """Offer the way back to a filmstrip (tooltip "Back to 12 images + 1 video"); empty hides it. The button
        says only "◂ Back": with the seek bar and Loop also shown, the bar must still fit a 1280 px window."""
        self.back_button.setToolTip(f"Back to {label} (Backspace)" if label else "")
        self.back_button.setVisible(bool(label))

    def set_source_kind(self, kind: str | None) -> None:
        """Filmstrips and video files step both ways; a camera steps forward only (while paused)."""
        self.set_play_item(False)
        self.prev_button.setEnabled(kind in ("images", "video"))
        self.next_button.setEnabled(kind is not None)
        self.pause_button.setEnabled(kind in ("camera", "video"))
        self.snapshot_button.setEnabled(kind is not None)
        self.seek_slider.setVisible(kind == "video")
        self.resolution_box.setVisible(kind == "camera")
        self.loop_button.setVisible(kind == "video")
        if kind != "video":
            self.seek_slider.setRange(0, 0)

    def set_position(self, text: str) -> None:
        """Where in the source the frame on screen is ("frame 12 / 300", "2 / 5  img.jpg")."""
        self.position.setText(text)

    def set_loop(self, loop: bool) -> None:
        self.loop_button.setChecked(loop)

    def set_video_position(self, frame: int, count: int) -> None:
        """Show 1-based ``frame`` of ``count`` on the seek bar, unless the user is dragging it."""
        if self.seek_slider.isSliderDown():
            return
        self.seek_slider.blockSignals(True)
        self.seek_slider.setRange(0, max(count - 1, 0))
        self.seek_slider.setValue(max(frame - 1, 0))
        self.seek_slider.blockSignals(False)

    def _slider_action(self, action: int) -> None:
        """A click on the groove or a page key: jump there (drags seek once, on release)."""
        if action in (QAbstractSlider.SliderAction.SliderMove.value, QAbstractSlider.SliderAction.SliderNoAction.value):
            return
        self.seekRequested.emit(self.seek_slider.sliderPosition())

    def _jumped(self, value: int) -> None:
        self._jumped_to = value
        self.seekRequested.emit(value)

    def _released(self) -> None:
        """The end of a drag seeks once; a plain click already did when it jumped."""
        value, jumped = self.seek_slider.value(), self._jumped_to
        self._jumped_to = None
        if value != jumped:
            self.seekRequested.emit(value)

    def _camera_activated(self, *_) -> None:
        spec = self.camera_spec()
        if spec is not None:
            self.cameraChosen.emit(spec)

    def _pause_toggled(self, paused: bool) -> None:
        if self._play_item:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)  # stays a "Play video" button
            self.pause_button.blockSignals(False)
            self.playItemRequested.emit()
            return
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)
