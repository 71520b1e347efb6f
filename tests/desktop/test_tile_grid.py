"""The one tile-grid fit behind the live attention grid and the dashboard's attention flow."""

from __future__ import annotations

import pytest

from attricam.desktop.tile_grid import fit_tiles


def test_one_tile_fills_the_width_when_the_height_allows():
    cols, w = fit_tiles(1, 200.0, 1000.0, aspect=1.2, label=20.0, gap=4.0)
    assert (cols, w) == (1, pytest.approx(196.0))


def test_a_wide_area_gets_more_columns_than_a_tall_one():
    wide, _ = fit_tiles(40, 2000.0, 300.0, aspect=1.2, label=20.0, gap=4.0)
    tall, _ = fit_tiles(40, 300.0, 2000.0, aspect=1.2, label=20.0, gap=4.0)
    assert wide > tall


def test_the_chosen_tiles_fit_the_area():
    for width, height in [(640.0, 480.0), (1200.0, 300.0), (300.0, 900.0)]:
        cols, w = fit_tiles(14, width, height, aspect=1.2, label=20.0, gap=4.0)
        rows = -(-14 // cols)
        assert cols * (w + 4.0) <= width + 1e-6
        assert rows * (w * 1.2 + 20.0) <= height + 1e-6
