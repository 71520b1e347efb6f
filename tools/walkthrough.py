"""Walk through the live view as a person does, in a real X window, and save a screenshot of every step.

    xvfb-run -s "-screen 0 1280x720x24" .venv/bin/python -m tools.walkthrough --out out/walkthrough

(or with a display of your own: ``.venv/bin/python -m tools.walkthrough``). Without ``$DISPLAY`` it starts
``Xvfb`` itself when installed (``apt-get install xvfb``), and a window manager (openbox) when there is one, so
the window has a title bar and is placed the way a desktop places it.

The real window with the shipped model on the xcb platform, driven by mouse clicks and key presses on the
real widgets (``QTest``): relaunch without a camera, the real clip (``tests/fixtures/real_clip.py``, built in a temporary
folder) playing, paused, stepped forward and back with a face selected, a click on the seek bar, the end of
the clip with Loop off, a folder of real photos and the clip (a slow photo's busy sign, a broken file's toast
and its expiry, the clip as a filmstrip item), the window at 1280x720, a shot of turned and half-hidden faces
stepped frame by frame (faces O-Net misses for a frame are held, never blink out), the File menu, Help ›
Keyboard shortcuts and the Dashboard, the app started with a source that does not exist, and the app at 125 %
and 150 % display scale on the same 1280x720 screen (``QT_SCALE_FACTOR``). Each screenshot is of the whole X
screen; ``steps.txt`` beside them says what each shows and the state the window reported (frame on screen,
toolbar text, HUD, selected face). Media stay in the temporary folder: nothing of ``../shared`` is copied
into the repository.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _start_x(size: str) -> list[subprocess.Popen]:
    """Xvfb (and openbox) on a free display when there is no ``$DISPLAY``; the processes to stop at the end."""
    if os.environ.get("DISPLAY"):
        return []
    if shutil.which("Xvfb") is None:
        raise SystemExit("no $DISPLAY and no Xvfb: install it (apt-get install xvfb) or run under xvfb-run")
    display = next(f":{n}" for n in range(91, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    started = [subprocess.Popen(["Xvfb", display, "-screen", "0", f"{size}x24", "-nolisten", "tcp"])]
    os.environ["DISPLAY"] = display
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            break
        time.sleep(0.05)
    if shutil.which("openbox"):
        started.append(subprocess.Popen(["openbox"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
    return started


class Walk:
    def __init__(self, app, window, out: Path) -> None:
        self.app, self.window, self.live, self.out = app, window, window.live, out
        self.count = 0
        self.notes: list[str] = []

    def wait(self, predicate=lambda: False, timeout: float = 30.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.app.processEvents()
            if predicate():
                return True
            time.sleep(0.01)
        return False

    def packet_after(self, predicate=lambda p: True, timeout: float = 60.0):
        start = self.live.packet.serial if self.live.packet is not None else 0
        ok = self.wait(lambda: (p := self.live.packet) is not None and p.serial > start and predicate(p), timeout)
        if not ok:
            self.notes.append("   (waited in vain for the next frame)")
        return self.live.packet

    def key(self, key, text: str = "") -> None:
        from PySide6.QtTest import QTest

        self.live.video.setFocus()
        QTest.keyClick(self.live.video, key)
        self.app.processEvents()

    def click(self, widget, pos=None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos if pos is not None else widget.rect().center())
        self.app.processEvents()

    def shot(self, name: str, what: str) -> None:
        self.wait(timeout=0.15)  # let the last paint land
        self.count += 1
        path = self.out / f"{self.count:02d}-{name}.png"
        screen = self.window.screen()
        screen.grabWindow(0).save(str(path))
        live, packet = self.live, self.live.packet
        state = [f"toolbar={live.source_bar.position.text()!r}", f"hud={live.video.hud[:1]}"]
        if packet is not None:
            state += [
                f"packet={packet.position!r}",
                f"selected={live.selected_face}",
                f"faces={len(packet.result.faces)}",
            ]
        state += [f"message={live.video.message[0]!r}", f"busy={live.video.busy!r}"]
        self.notes.append(f"{path.name}: {what}\n   " + " · ".join(state))
        print(self.notes[-1], flush=True)


def _centre(live) -> tuple[float, float]:
    face = live.packet.result.face(live.selected_face)
    return (float(face.box[0] + face.box[2]) / 2, float(face.box[1] + face.box[3]) / 2) if face else (-1e9, -1e9)


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5)


def walk(walker: Walk, clip: Path, folder: Path) -> None:
    from PySide6.QtCore import QPoint, Qt

    from tests.fixtures.real_clip import scene_starts

    live, w = walker.live, walker
    w.wait(lambda: live.bundle is not None and live.cameras is not None, 120)
    w.wait(timeout=0.5)
    w.shot("relaunch-empty-state", "started with a remembered clip and no camera: the empty state, 'Reopen clip'")

    w.click(live.empty_state.reopen)
    w.packet_after(lambda p: p.video_frame is not None and p.video_frame[0] > 200, 60)
    w.shot("playing", "the real clip playing (HUD and toolbar frame numbers)")
    w.key(Qt.Key.Key_Space)
    w.wait(timeout=0.3)
    w.shot("paused", "Space: PAUSED in the HUD, no stale rate, toolbar = HUD = panel")
    for start in scene_starts():  # a shot with several people
        live.seek(start + 8)
        w.wait(lambda: not live.busy, 30)
        if len(live.packet.result.faces) >= 2:
            break
    for _ in range(2):
        w.key(Qt.Key.Key_Right)
        w.packet_after()
    target = max(live.packet.result.faces, key=lambda f: f.face_id)  # the face a renumbering moves
    centre = live.video.frame_to_widget((target.box[0] + target.box[2]) / 2, (target.box[1] + target.box[3]) / 2)
    w.click(live.video, QPoint(int(centre.x()), int(centre.y())))
    w.wait(timeout=0.3)
    w.shot(
        "selected-face",
        f"a shot with {len(live.packet.result.faces)} people, two steps forward, face #{target.face_id} clicked",
    )
    before = _centre(live)
    w.key(Qt.Key.Key_Left)
    w.packet_after()
    w.wait(timeout=0.3)
    moved = live.packet.selection_moved
    w.shot(
        "stepped-back",
        f"← one frame: tracks restart ({'ids renumbered ' + str(moved) if moved else 'same ids'}); "
        f"the selected box moved {_distance(before, _centre(live)):.0f} px, so it is the same person",
    )
    w.key(Qt.Key.Key_Right)
    w.packet_after()
    w.shot("stepped-forward", f"→ again: still the same person (moved {_distance(before, _centre(live)):.0f} px)")

    slider = live.source_bar.seek_slider
    x = next(x for x in range(slider.width()) if slider.value_at(x) >= slider.maximum() * 3 // 4)
    w.click(slider, QPoint(x, slider.height() // 2))
    w.packet_after()
    w.shot("seek-click", "a click at three quarters of the seek bar jumps there")

    w.click(live.source_bar.loop_button)  # Loop off
    live.seek(max(slider.maximum() - 20, 0))
    w.packet_after()
    w.key(Qt.Key.Key_Space)
    w.wait(lambda: live.session.ended, 30)
    w.wait(timeout=0.3)
    w.shot("ended", "Loop off, the clip played to its end: ENDED, 'Play again', the toolbar says ended")
    w.key(Qt.Key.Key_Space)
    w.packet_after(lambda p: p.video_frame is not None and p.video_frame[0] <= 5)
    w.shot("played-again", "Space after the end starts the clip again")
    w.key(Qt.Key.Key_Space)

    live.open_paths([str(folder)])
    w.packet_after(lambda p: p.filmstrip is not None and p.filmstrip[0] == 0, 120)
    w.shot("folder", f"a folder of real photos, a broken file and the clip: {live.spec.label}")
    names = [Path(p).name for p in live.spec.paths]
    while live.packet.filmstrip[0] < names.index("bald_guys.jpg") - 1:
        w.key(Qt.Key.Key_Right)
        w.packet_after(timeout=120)
    w.key(Qt.Key.Key_Right)
    w.wait(lambda: bool(live.video.busy), 5)
    w.shot("busy", "stepping onto bald_guys.jpg (slow): the busy sign over the previous picture")
    w.key(Qt.Key.Key_Right)
    w.shot("refused", "→ again while it is analysed: refused with a message")
    w.wait(lambda: not live.busy, 120)
    w.shot("slow-still-shown", "bald_guys.jpg analysed: toolbar, HUD and panel agree; ids readable at this size")
    w.click(live.overlay.bars)
    w.packet_after()
    w.shot("bars-on-video", "Bars on video over 25 faces of a large photo, drawn in screen pixels")
    w.click(live.overlay.bars)
    w.packet_after()
    w.key(Qt.Key.Key_Right)  # broken.jpg
    w.wait(lambda: live.video.message[1] == "error", 30)
    w.shot("error-toast", "broken.jpg: the error toast over the previous (valid) picture")
    w.wait(lambda: live.video.message[0] == "", 15)
    w.shot("toast-gone", "about ten seconds later the toast is gone")
    w.key(Qt.Key.Key_Right)  # the clip
    w.packet_after(lambda p: p.filmstrip is not None and p.filmstrip[0] == len(names) - 1, 60)
    w.shot("video-item", "the clip as the folder's last item: its first frame, 'Play video'")
    w.key(Qt.Key.Key_Space)
    w.packet_after(lambda p: p.video_frame is not None, 60)
    w.wait(timeout=1.0)
    w.shot("video-from-folder", "Space plays it; '◂ Back' (Backspace) returns to the folder")
    w.click(live.source_bar.back_button)
    w.packet_after(lambda p: p.filmstrip is not None, 60)

    w.window.showNormal()
    w.window.resize(1280, 690)
    w.wait(timeout=0.5)
    w.shot("1280x720", "the window at 1280x720 (less its title bar)")


def walk_profile(walker: Walk, clip: Path, first: int = 35, steps: int = 24) -> None:
    """Step → through a shot of turned, small and half-hidden faces; note which faces each frame shows."""
    from PySide6.QtCore import Qt

    from attricam.desktop.sources import SourceKind, SourceSpec

    live, w = walker.live, walker
    live.open_source(SourceSpec(SourceKind.VIDEO, paths=(str(clip),)))
    w.packet_after(lambda p: p.video_frame is not None, 60)
    if not live.paused:
        w.key(Qt.Key.Key_Space)
    live.seek(first - 1)
    w.wait(lambda: not live.busy and live.packet.video_frame[0] == first, 30)
    shown, held_shot = [], False
    for _ in range(steps):
        w.key(Qt.Key.Key_Right)
        w.wait(lambda: not live.busy, 30)
        w.wait(timeout=0.3)  # a person's pace: the background search answers before the next press
        faces = live.packet.result.faces
        shown.append({f.face_id: f.held for f in faces})
        if any(f.held for f in faces) and not held_shot:
            held_shot = True
            w.shot(
                "profile-held",
                f"stepping a shot of turned faces: frame {live.packet.video_frame[0]}, a face "
                "O-Net missed on this frame is held (grey box, '#id held') instead of blinking out",
            )
    blinks = [
        (t, face_id)
        for t in range(1, len(shown))
        for face_id in set(shown[t - 1]) - set(shown[t])
        if any(face_id in later for later in shown[t + 1 : t + 4])
    ]
    row = " ".join(
        "".join(("h" if f[i] else "#") if i in f else "." for f in shown) for i in sorted(set().union(*shown))
    )
    w.shot(
        "profile-stepped",
        f"{steps} frames stepped with → from frame {first}: per face (# shown, h held, . gone) "
        f"{row}; a face missing between two frames that show it: {len(blinks)} times",
    )


def walk_menus_and_dashboard(walker: Walk) -> None:
    """The File menu open, Help › Keyboard shortcuts (a modal box: grabbed and closed from a timer), the Dashboard."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    w, window = walker, walker.window
    menus = {a.text().replace("&", ""): a for a in window.menuBar().actions()}
    file_menu = menus["File"].menu()
    file_menu.popup(window.menuBar().mapToGlobal(window.menuBar().actionGeometry(menus["File"]).bottomLeft()))
    w.wait(timeout=0.5)
    w.shot("file-menu", "File menu: every item names its key (Snapshot: S)")
    file_menu.hide()
    keys = next(a for a in menus["Help"].menu().actions() if a.text().replace("&", "").startswith("Keyboard"))

    def grab_and_close() -> None:
        w.shot("keyboard-shortcuts", "Help › Keyboard shortcuts: every key, Ctrl+M among them")
        box = QApplication.activeModalWidget()
        if box is not None:
            box.close()

    QTimer.singleShot(800, grab_and_close)
    keys.trigger()  # runs the modal box until the timer closes it
    window.tabs.setCurrentIndex(2)
    w.wait(timeout=3.0)
    w.shot("dashboard", "Dashboard: ROC curves with 0.0 and 1.0 labelled on both axes")
    window.tabs.setCurrentIndex(0)


def bad_source_window(walker: Walk, settings: Path) -> None:
    """The app started from a launcher with a file that does not exist: a window that says why, not a silent exit."""
    command = [sys.executable, "-m", "attricam", "--source", "/no/such/holiday.mp4", "--settings", str(settings)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        walker.wait(lambda: process.poll() is not None, 12.0)
        walker.shot("bad-source", "attricam --source /no/such/holiday.mp4 with a display: the window says why")
    finally:
        process.terminate()
        process.wait(10)


def scaled_screenshots(out: Path, photo: Path, first_number: int) -> list[str]:
    """The app at 125 % and 150 % on this 1280x720 screen (1024x546 and 853x450 logical under a title bar)."""
    notes = []
    for number, (scale, size) in enumerate((("1.25", "1024x546"), ("1.5", "853x450")), start=first_number):
        path = out / f"{number:02d}-scale-{scale.replace('.', '')}.png"
        env = {**os.environ, "QT_SCALE_FACTOR": scale}
        command = [sys.executable, "-m", "attricam", "--source", str(photo), "--size", size]
        done = subprocess.run(
            [*command, "--screenshot", str(path), "--exit-after-frames", "1"], env=env, capture_output=True, text=True
        )
        what = f"the window at {float(scale):.0%} display scale, {size} logical pixels: ids as tall as the UI text"
        notes.append(f"{path.name}: {what}" + ("" if done.returncode == 0 else f"\n   FAILED: {done.stderr[-300:]}"))
        print(notes[-1], flush=True)
    return notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "walkthrough")
    parser.add_argument("--screen", default="1280x720", help="Xvfb screen size when this script starts one")
    args = parser.parse_args()
    x_server = _start_x(args.screen)
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from attricam.desktop.main_window import MainWindow
        from attricam.desktop.settings import AppSettings
        from attricam.desktop.sources import SourceKind, SourceSpec
        from tests.fixtures.real_clip import Scene, default_photos_root, make_real_clip

        with tempfile.TemporaryDirectory(prefix="attricam-walk-") as tmp:
            media = Path(tmp)
            clip = make_real_clip(media / "clip.avi")
            turned = (Scene("2008_002079.jpg", (0.5, 0.5, 1.0), (0.52, 0.45, 0.85), 60),)
            profile_clip = make_real_clip(media / "turned-faces.avi", scenes=turned)
            folder = media / "photos"
            folder.mkdir()
            for name in ("2008_001322.jpg", "Tom_Cruise_avp_2014_4.jpg", "bald_guys.jpg"):
                (folder / name).symlink_to(default_photos_root() / name)
            (folder / "broken.jpg").write_bytes(b"not a jpeg")
            (folder / "zz-clip.avi").symlink_to(clip)
            store = AppSettings(QSettings(str(media / "settings.ini"), QSettings.Format.IniFormat))
            store.last_source = SourceSpec(SourceKind.VIDEO, paths=(str(clip),)).to_text()
            store.export_folder = str(media / "exports")
            app = QApplication.instance() or QApplication(["attricam"])
            window = MainWindow(store)
            window.training.ask_before_close = False
            window.show()
            walker = Walk(app, window, args.out)
            try:
                walk(walker, clip, folder)
                walk_profile(walker, profile_clip)
                walk_menus_and_dashboard(walker)
            finally:
                window.close()
                window.shutdown()
                bad_source_window(walker, media / "bad-source.ini")
                photo = default_photos_root() / "2008_002079.jpg"
                walker.notes += scaled_screenshots(args.out, photo, walker.count + 1)
                (args.out / "steps.txt").write_text("\n".join(walker.notes) + "\n")
    finally:
        for process in reversed(x_server):
            process.terminate()
            process.wait(timeout=10)
    print(f"screenshots and steps.txt in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
