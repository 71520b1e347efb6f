"""Small pure pieces of the desktop package: attribute order, source specs, file classification."""

from __future__ import annotations

import os

import pytest

from attricam.engine.attributes import ATTRIBUTES


def test_ordered_attributes_sort_and_filter():
    import numpy as np

    from attricam.desktop.attribute_bars import ordered_attributes

    probabilities = np.linspace(0, 1, 40, dtype=np.float32)
    assert ordered_attributes(probabilities, "probability", "all")[0] == 39
    rare = ordered_attributes(None, "rarity", "rare")
    assert [ATTRIBUTES[i].name for i in rare[:2]] == ["Bald", "Mustache"]
    assert all(ATTRIBUTES[i].is_rare for i in rare) and len(rare) == 14
    common = ordered_attributes(None, "name", "common")
    assert all(ATTRIBUTES[i].is_common for i in common)
    assert [ATTRIBUTES[i].name for i in common] == sorted((ATTRIBUTES[i].name for i in common), key=str.lower)
    with pytest.raises(ValueError, match="valid"):
        ordered_attributes(None, "colour", "all")


def test_source_spec_round_trips_through_settings_text():
    from attricam.desktop.sources import SourceKind, SourceSpec

    for spec in (
        SourceSpec(SourceKind.CAMERA, camera=1, resolution=(1280, 720)),
        SourceSpec(SourceKind.VIDEO, paths=("/tmp/a clip.mp4",)),
        SourceSpec(SourceKind.IMAGES, paths=("/x/a.jpg", "/x/b.png")),
    ):
        assert SourceSpec.from_text(spec.to_text()) == spec
        assert type(SourceSpec.from_text(spec.to_text()).kind) is SourceKind
    texts = ["camera:1:1280x720", "video:/tmp/a clip.mp4", "images:/x/a.jpg" + os.pathsep + "/x/b.png"]
    assert [SourceSpec.from_text(text).to_text() for text in texts] == texts  # what settings saved before reads back
    assert SourceSpec.from_text("garbage") is None
    assert SourceSpec.from_text("camera:x:1x1") is None


def test_classify_paths(tmp_path):
    from attricam.desktop.sources import classify_paths

    image, video, other = tmp_path / "a.jpg", tmp_path / "b.mp4", tmp_path / "c.txt"
    for p in (image, video, other):
        p.write_bytes(b"x")
    assert classify_paths([str(image), str(video)]).paths == (str(image), str(video))  # a filmstrip of both
    assert classify_paths([str(video)]).kind == "video"
    assert classify_paths([str(tmp_path)]).paths == (str(image), str(video))  # a folder: images and videos
    assert classify_paths([str(image)]).paths == (str(image),)
    assert classify_paths([str(other)]).kind == "images"  # the loader will name the problem
    assert classify_paths([str(tmp_path / "missing.jpg")]) is None


def test_qt_binding_does_not_corrupt_none_refcount(qapp):
    """PySide6-Essentials 6.12.0 on Python 3.11 decrements None's refcount on every void call (painter.setPen, …)
    and the app aborts with 'none_dealloc' after a few minutes of video. Pin a wheel without that bug."""
    import sys

    import PySide6
    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(QColor(1, 2, 3))
    after = sys.getrefcount(None)
    painter.end()
    assert after - before > -100, (
        f"PySide6 {PySide6.__version__} leaks None references ({after - before} per 2000 calls)"
    )
