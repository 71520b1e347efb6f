"""What real cameras do to a face that CelebA's studio-grade photos never show.

Webcams and phone snapshots differ from CelebA in ways the attribute model must
shrug off: JPEG blocking, defocus and motion blur, sensor noise, low resolution,
under/over-exposure, gamma, and white-balance casts. :func:`apply_camera_shift`
applies a random mix of these to a float batch. Training uses it as
augmentation; ``shifted val`` (:func:`attricam.training.augment.shifted_val_inputs`)
applies it, with stronger geometry (pose and framing), deterministically to the
val faces so that evaluation measures behaviour under the same shift.

Colour casts are kept mild (a few percent per channel): hair colour is a label
(Blond_Hair, Gray_Hair, ...), and a strong hue change would make labels wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

__all__ = ["CameraShift", "SHIFTED_VAL", "apply_camera_shift"]


@dataclass(frozen=True)
class CameraShift:
    """Probabilities and strengths of each degradation; ``p_*`` = chance per image."""

    p_blur: float = 0.2
    blur_sigma: tuple[float, float] = (0.5, 1.6)
    """Gaussian sigma in pixels of the 96x80 model input."""
    p_noise: float = 0.2
    noise_std: tuple[float, float] = (0.01, 0.05)
    p_lowres: float = 0.2
    lowres_factor: tuple[float, float] = (0.3, 0.7)
    """Downscale factor before upsampling back (0.3 = a face ~30 px wide)."""
    p_gamma: float = 0.3
    gamma: tuple[float, float] = (0.6, 1.6)
    p_cast: float = 0.3
    cast: float = 0.08
    """Largest per-channel gain deviation (white balance)."""
    p_jpeg: float = 0.3
    jpeg_quality: tuple[int, int] = (20, 70)


SHIFTED_VAL = CameraShift(
    p_blur=0.35, p_noise=0.35, p_lowres=0.35, p_gamma=0.5, p_cast=0.5, p_jpeg=0.5, jpeg_quality=(15, 60)
)
"""The degradations of the shifted val set: each one more often than in training."""


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=generator) * (high - low) + low


def _pick(n: int, p: float, generator: torch.Generator | None) -> torch.Tensor:
    return torch.rand(n, generator=generator) < p


def _degrade_one(image: np.ndarray, blur_sigma: float, lowres_factor: float, jpeg_quality: int) -> np.ndarray:
    """(h, w, 3) float32 in [0, 1] -> low-resolution, blurred and/or JPEG'd copy (0 = skip that step)."""
    h, w = image.shape[:2]
    if lowres_factor:
        small = cv2.resize(
            image, (max(8, round(w * lowres_factor)), max(8, round(h * lowres_factor))), interpolation=cv2.INTER_AREA
        )
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if blur_sigma:
        image = cv2.GaussianBlur(image, (0, 0), blur_sigma, borderType=cv2.BORDER_REPLICATE)
    if jpeg_quality:
        array = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
        ok, encoded = cv2.imencode(".jpg", array, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED) if ok else None
        if decoded is not None:  # channel order does not matter for a round trip
            image = decoded.astype(np.float32) * (1 / 255)
    return image


def apply_camera_shift(x: torch.Tensor, shift: CameraShift, generator: torch.Generator | None = None) -> torch.Tensor:
    """float (b, 3, h, w) in [0, 1] -> degraded copy; each image draws its own degradations."""
    b = x.shape[0]
    blur = torch.where(_pick(b, shift.p_blur, generator), _uniform(b, *shift.blur_sigma, generator), torch.zeros(b))
    lowres = torch.where(
        _pick(b, shift.p_lowres, generator), _uniform(b, *shift.lowres_factor, generator), torch.zeros(b)
    )
    gamma = torch.where(_pick(b, shift.p_gamma, generator), _uniform(b, *shift.gamma, generator), torch.ones(b))
    cast = torch.where(
        _pick(b, shift.p_cast, generator).view(b, 1),
        1 + (torch.rand(b, 3, generator=generator) * 2 - 1) * shift.cast,
        torch.ones(b, 3),
    )
    noise = torch.where(_pick(b, shift.p_noise, generator), _uniform(b, *shift.noise_std, generator), torch.zeros(b))
    jpeg = torch.where(
        _pick(b, shift.p_jpeg, generator), _uniform(b, *shift.jpeg_quality, generator), torch.zeros(b)
    ).round()

    x = x.clone()
    # Each degradation touches only the images that drew it: a batch-wide power or Gaussian draw
    # was a quarter of the augmentation's time.
    if (curve := torch.nonzero(gamma != 1).flatten()).numel():
        x[curve] = x[curve].clamp_(1e-4, 1.0) ** gamma[curve].view(-1, 1, 1, 1)
    if (tint := torch.nonzero((cast != 1).any(1)).flatten()).numel():
        x[tint] = (x[tint] * cast[tint].view(-1, 3, 1, 1)).clamp_(0.0, 1.0)
    if (grain := torch.nonzero(noise > 0).flatten()).numel():
        y = x[grain]
        y += torch.randn(y.shape, generator=generator) * noise[grain].view(-1, 1, 1, 1)
        x[grain] = y.clamp_(0.0, 1.0)
    pixel = (blur > 0) | (lowres > 0) | (jpeg > 0)
    if pixel.any():
        hwc = x.permute(0, 2, 3, 1).contiguous().numpy()  # (b, h, w, 3) float32, a view of a fresh copy
        for i in torch.nonzero(pixel).flatten().tolist():
            hwc[i] = _degrade_one(hwc[i], float(blur[i]), float(lowres[i]), int(jpeg[i]))
        x = torch.from_numpy(hwc).permute(0, 3, 1, 2)
    return x
