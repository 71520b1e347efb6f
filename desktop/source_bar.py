"""Source toolbar: camera and resolution pickers, open file, filmstrip navigation, play controls.

Video files also get a seek bar and a loop toggle; both are hidden for cameras and stills. The resolution picker
shows only while a camera is the source, and a long position text ("3 / 12  a-long-file-name.jpg") ends in "…"
rather than widen the window. When one row is too narrow for everything (a folder's video with **◂ Back** at
853 logical pixels, a 1280x720 screen at 150 %), the play controls (seek bar, Loop, Pause, Snapshot) wrap onto a
second row: the bar's minimum width is that of its wider row, so nothing is ever clipped.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractSlider,
    QComboBox,
    QHBoxLayout,
    QPushButton,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .elided_label import ElidedLabel
from .sources import CAMERA_RESOLUTIONS, SourceKind, SourceSpec

__all__ = ["SeekSlider", "SourceBar"]


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


_SPACING = 6
"""Between the bar's controls (Fusion's own spacing, fixed so both rows measure alike)."""


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
        self._build_controls()
        self._build_rows()
        self._jumped_to: int | None = None
        self._play_item = False
        self._connect_signals()

    def _build_controls(self) -> None:
        """The bar's widgets: camera and resolution, open buttons, steps, position, seek bar and play buttons."""
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
        self.prev_button = _tool_button("◀")
        self.prev_button.setToolTip("Previous image / step back (←)")
        self.next_button = _tool_button("▶")
        self.next_button.setToolTip("Next image / single step (→)")
        self.position = ElidedLabel(120)
        self.seek_slider = SeekSlider()
        self.seek_slider.setObjectName("SeekSlider")
        self.seek_slider.setToolTip("Video position: drag or click to jump")
        self.seek_slider.setMinimumWidth(80)
        self.seek_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows stay frame steps, not slider moves
        self.loop_button = _tool_button("Loop")
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

    def _build_rows(self) -> None:
        """One row of controls; ``_wrap`` moves the play controls to the second row when the bar is narrow."""
        self.play_controls = QWidget()
        """Seek bar, Loop, Pause and Snapshot: at the end of the row, or a second row of their own when narrow."""
        play = QHBoxLayout(self.play_controls)
        play.setContentsMargins(0, 0, 0, 0)
        play.setSpacing(_SPACING)
        play.addWidget(self.seek_slider, 1)
        play.addWidget(self.loop_button)
        play.addWidget(self.pause_button)
        play.addWidget(self.snapshot_button)
        self._first_row = QHBoxLayout()
        self._first_row.setSpacing(_SPACING)
        first_row: tuple[QWidget | None, ...] = (  # None: a gap
            self.back_button,
            self.camera_box,
            self.resolution_box,
            None,
            self.open_video,
            self.open_images,
            None,
            self.prev_button,
            self.next_button,
        )
        for widget in first_row:
            self._first_row.addWidget(widget) if widget is not None else self._first_row.addSpacing(8)
        self._first_row.addWidget(self.position, 1)
        self._first_row.addWidget(self.play_controls)
        self._second_row = QHBoxLayout()
        self._second_row.setSpacing(_SPACING)
        self._rows = QVBoxLayout(self)
        self._rows.setContentsMargins(4, 4, 4, 4)
        self._rows.setSpacing(4)
        self._rows.addLayout(self._first_row)
        self._rows.addLayout(self._second_row)

    def _connect_signals(self) -> None:
        self.camera_box.activated.connect(self._camera_activated)
        self.resolution_box.activated.connect(self._camera_activated)
        self.open_video.clicked.connect(self.openVideoRequested)
        self.open_images.clicked.connect(self.openImagesRequested)
        self.pause_button.toggled.connect(self._pause_toggled)
        self.prev_button.clicked.connect(lambda: self.stepRequested.emit(-1))
        self.next_button.clicked.connect(lambda: self.stepRequested.emit(1))
        self.snapshot_button.clicked.connect(self.snapshotRequested)
        self.seek_slider.jumped.connect(self._jumped)
        self.seek_slider.sliderReleased.connect(self._released)
        self.seek_slider.actionTriggered.connect(self._slider_action)
        self.loop_button.toggled.connect(self.loopToggled)
        self.back_button.clicked.connect(self.backRequested)

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
        return SourceSpec(SourceKind.CAMERA, camera=int(index), resolution=tuple(self.resolution_box.currentData()))

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
        says only "◂ Back": with the seek bar and Loop also shown, one row still fits a 1024 px window."""
        self.back_button.setToolTip(f"Back to {label} (Backspace)" if label else "")
        self.back_button.setVisible(bool(label))
        self._wrap()

    @property
    def wrapped(self) -> bool:
        """The play controls are on a second row (the window is too narrow for one)."""
        return self._second_row.indexOf(self.play_controls) >= 0

    def _row_widths(self) -> tuple[int, int]:
        """Minimum widths in pixels of the first row without the play controls, and of the play controls. Summed
        here from the controls (as QBoxLayout does) rather than read from the row, whose sums are only brought up to
        date when the bar is laid out next."""
        row = (self._first_row.itemAt(i) for i in range(self._first_row.count()))
        items = [item for item in row if item is not None and item.widget() is not self.play_controls]
        shown = sum(not item.isEmpty() for item in items)
        first = sum(item.minimumSize().width() for item in items) + _SPACING * max(shown - 1, 0)
        return first, self.play_controls.minimumSizeHint().width()

    def one_row_width(self) -> int:
        """The narrowest the bar can be with every control on one row."""
        first, play = self._row_widths()
        margins = self._rows.contentsMargins()
        return first + _SPACING + play + margins.left() + margins.right()

    def minimumSizeHint(self) -> QSize:
        first, play = self._row_widths()
        margins = self._rows.contentsMargins()
        return QSize(max(first, play) + margins.left() + margins.right(), super().minimumSizeHint().height())

    def _wrap(self) -> None:
        """One row while it fits the bar's width, else the play controls on a second row. The seek bar takes the
        room a row has to spare; without it the position text does (the buttons keep their own width)."""
        wrap = self.width() < self.one_row_width()
        seeking = not self.seek_slider.isHidden()
        if wrap != self.wrapped:
            (self._first_row if wrap else self._second_row).removeWidget(self.play_controls)
            if wrap:
                self._second_row.addStretch(0)
                self._second_row.addWidget(self.play_controls)
            else:
                while self._second_row.count():
                    self._second_row.takeAt(0)
                self._first_row.addWidget(self.play_controls)
        row = self._second_row if wrap else self._first_row
        stretches = {row.indexOf(self.play_controls): 3 if seeking else 0}
        if wrap:
            stretches[0] = 0 if seeking else 1  # no seek bar: Pause and Snapshot on the right
        for index, stretch in stretches.items():
            if row.stretch(index) != stretch:  # setting it lays the bar out again, even to the same value
                row.setStretch(index, stretch)
        self._rows.activate()  # at once, not one frame later

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._wrap()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # a control shown or hidden, a longer camera name
            self._wrap()
        return handled

    def set_source_kind(self, kind: SourceKind | None) -> None:
        """Filmstrips and video files step both ways; a camera steps forward only (while paused)."""
        self.set_play_item(False)
        self.prev_button.setEnabled(kind in (SourceKind.IMAGES, SourceKind.VIDEO))
        self.next_button.setEnabled(kind is not None)
        self.pause_button.setEnabled(kind in (SourceKind.CAMERA, SourceKind.VIDEO))
        self.snapshot_button.setEnabled(kind is not None)
        self.seek_slider.setVisible(kind == SourceKind.VIDEO)
        self.resolution_box.setVisible(kind == SourceKind.CAMERA)
        self.loop_button.setVisible(kind == SourceKind.VIDEO)
        if kind != SourceKind.VIDEO:
            self.seek_slider.setRange(0, 0)
        self._wrap()

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

    def _camera_activated(self, *_: object) -> None:
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


def _tool_button(text: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    return button
