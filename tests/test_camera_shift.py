"""Real-camera degradations: training augmentation and the deterministic shifted val."""

import torch

from attricam.training.augment import AugmentConfig, augment_batch, shifted_val_inputs
from attricam.training.camera_shift import CameraShift, apply_camera_shift


def _faces(n=16):
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 112, 96, 3), dtype=torch.uint8, generator=g)


def test_every_degradation_changes_the_image_and_stays_in_range():
    x = torch.rand(8, 3, 96, 80)
    for field in ("p_blur", "p_noise", "p_lowres", "p_gamma", "p_cast", "p_jpeg"):
        only = CameraShift(
            **{
                f: (1.0 if f == field else 0.0)
                for f in ("p_blur", "p_noise", "p_lowres", "p_gamma", "p_cast", "p_jpeg")
            }
        )
        y = apply_camera_shift(x, only, torch.Generator().manual_seed(1))
        assert y.shape == x.shape and float(y.min()) >= 0 and float(y.max()) <= 1
        assert (y - x).abs().mean() > 1e-3, field


def test_shifted_val_is_deterministic_and_differs_from_clean():
    images = _faces()
    a, b = shifted_val_inputs(images, 96, 80), shifted_val_inputs(images, 96, 80)
    torch.testing.assert_close(a, b)
    clean = augment_batch(
        images,
        96,
        80,
        AugmentConfig(
            flip=0, max_shift=0, scale=(1, 1), rotation_deg=0, brightness=0, contrast=0, lowres=0, camera_shift=False
        ),
    )
    assert (a - clean).abs().mean() > 0.02


def test_augmentation_keeps_colour_casts_mild():
    """Hair colour is a label: the cast may tint a grey image by at most a few percent per channel."""
    grey = torch.full((64, 3, 96, 80), 0.5)
    only_cast = CameraShift(p_blur=0, p_noise=0, p_lowres=0, p_gamma=0, p_cast=1.0, p_jpeg=0)
    y = apply_camera_shift(grey, only_cast, torch.Generator().manual_seed(0))
    per_channel = y.mean(dim=(2, 3))
    assert float((per_channel.max(1).values - per_channel.min(1).values).max()) <= 2 * 0.5 * only_cast.cast + 1e-4
