"""What a :class:`attricam.engine.pipeline.FacePipeline` does and how: its backends, cadence, face sizes and smoothing.

Its own module so that the pipeline's parts (:mod:`attricam.engine.live_detection`) read it without importing
the pipeline; :mod:`attricam.engine.pipeline` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .detection import DetectorSettings

__all__ = ["PipelineSettings", "live_detector_settings", "still_detector_settings"]


@dataclass(frozen=True)
class PipelineSettings:
    """A pipeline's settings; ``FacePipeline.update_settings`` changes the live ones (cadence, sizes, smoothing)."""

    backend: str = "auto"
    """torch, onnx, or auto: onnxruntime when the bundle has its ONNX twin (faster at batch 1 on CPU)."""
    device: str = "auto"
    detector_backend: str = "auto"
    """MTCNN on onnx (no torch import), torch, or auto: onnx on CPU when onnxruntime is installed."""
    threads: int | None = None
    """CPU threads for torch and onnxruntime; None keeps their defaults. 1 is best beside a busy process."""
    opencv_threads: int | None = 1
    """OpenCV's thread pool (process-wide): a live frame's resizes, warps and blends are small, and on 2 cores
    beside the detection thread their hand-offs cost more than they save (measured on the real clip's frame p95,
    ``benchmarks/bench_live.py --real``). None keeps OpenCV's default."""
    full_detect_every: int = 10
    """Run the full cascade every N frames; O-Net refines tracked faces in between."""
    min_face_size: int = 60
    """Smallest face the live path searches for, in frame pixels (a webcam face at 2 m is ~80 px at 640x480)."""
    detect_max_side: int = 320
    """Live frames are downscaled to this long side for the full cascade."""
    still_min_face_size: int = 20
    still_min_score: float = 0.90
    """Stills (the GUI's images, ``analyze``, exports) show no detection below this MTCNN score as a person. On
    CelebA val every face scored >= 0.963 and on ``../shared/real-photos`` every real face >= 0.976, while the
    false faces seen (jacket-cuff buttons 0.84, a background patch in bald_guys.jpg 0.74) scored lower."""
    still_max_side: int = 1600
    max_faces: int = 8
    """Largest faces kept per live frame (each costs a classification every frame)."""
    still_max_faces: int = 64
    """Largest faces kept in a still image: group photos and collages hold far more than a webcam frame."""
    ema_alpha: float = 0.4
    iou_threshold: float = 0.3
    background_detection: bool = False
    """Run the full cascade on its own thread (live video); False keeps every frame's result deterministic
    (offline analysis, tests)."""
    background_nice: int = 0
    """Niceness added to the background detection thread (Linux): the app raises it so that on a busy machine
    the search yields the cores to the frame path and the GUI thread."""
    cut_threshold: float = 0.35
    """Frame-histogram distance above which a frame starts a new shot and every track ends; 0 disables."""
    max_appearance_change: float = 0.6
    """Look change (``appearance_distance``) above which a face does not continue the track it overlaps."""
    hold_frames: int = 3
    """Live video (``background_detection``): a tracked face that O-Net loses for a frame is shown as on the frame
    before, marked ``held``, for up to this many frames while its place still looks the same. A face turned to
    profile or half out of the picture scored just under O-Net's bar every other frame and blinked between "no
    face" and the face when stepped through (real photos: gaps of 1-3 frames). 0 turns it off; offline analysis
    (no background detection) reports detected faces only."""
    second_opinion: bool = True
    """Fuse the bundle's face-descriptor probes (:mod:`attricam.engine.second_opinion`) when it has them and the
    optional descriptor packages are installed; False uses the attribute model alone."""
    descriptor_async: bool = False
    """Live video: compute each track's descriptor in a separate process (:mod:`attricam.engine.descriptor_worker`),
    so no frame waits for it (~5 ms; ~80 ms with dlib's own network); a track shows the model's own answer until
    its descriptor arrives. False computes due descriptors inside ``process`` (deterministic: ``analyze`` and tests)."""
    descriptor_refresh_s: float = 1.0
    """A live track's descriptor is recomputed after this many seconds (async) ..."""
    descriptor_refresh_frames: int = 30
    """... or after this many frames (synchronous video analysis)."""


def live_detector_settings(settings: PipelineSettings) -> DetectorSettings:
    """The cascade's settings for video frames: downscaled, no occlusion retry (a frame without a face would pay twice)."""
    s = settings
    return DetectorSettings(min_face_size=s.min_face_size, detect_max_side=s.detect_max_side, occlusion_retry=False)


def still_detector_settings(settings: PipelineSettings) -> DetectorSettings:
    """The cascade's settings for stills: smaller faces, larger images, the occlusion retry."""
    s = settings
    return DetectorSettings(min_face_size=s.still_min_face_size, detect_max_side=s.still_max_side, occlusion_retry=True)
