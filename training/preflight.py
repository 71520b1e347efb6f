"""Checks of a training run's setup before anything heavy starts, each failing with one clear line.

Training on a wrong root used to end in a traceback from deep inside the
reader minutes after the start; a typo in ``--loss-option`` or an existing
checkpoint without ``--resume`` likewise. These checks run first and raise
:class:`SetupError`, which the CLI prints as one line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from attricam.engine.attributes import ATTRIBUTE_NAMES
from attricam.engine.model_config import AttributeModelConfig, state_dict_shapes
from attricam.engine.output_paths import OutputPathError, check_output_folder, remove_stale_temps

from .celeba import ATTR_FILE, IMAGE_DIR, PARTITION_FILE
from .config import CHECKPOINT_NAME, TrainConfig

__all__ = ["SetupError", "check_checkpoint_readable", "check_data_root", "check_train_setup"]

log = logging.getLogger(__name__)


class SetupError(ValueError):
    """The run cannot start as asked; the message says what to change."""


def check_data_root(root: str | Path) -> None:
    """A CelebA root: a folder with the attribute file (official header), the partition file and the images."""
    root = Path(root)
    if not root.is_dir():
        raise SetupError(f"data root {root} does not exist (or is not a folder); pass --data DIR or set $ATTRICAM_DATA")
    for name in (ATTR_FILE, PARTITION_FILE):
        if not (root / name).is_file():
            raise SetupError(
                f"data root {root} has no {name}; a CelebA root holds {ATTR_FILE}, {PARTITION_FILE} and {IMAGE_DIR}/"
            )
    if not (root / IMAGE_DIR).is_dir():
        raise SetupError(f"data root {root} has no {IMAGE_DIR}/ folder of images")
    try:
        with open(root / ATTR_FILE, encoding="utf-8") as handle:
            handle.readline()
            header = tuple(handle.readline().split())
    except (OSError, UnicodeDecodeError) as exc:
        raise SetupError(f"{root / ATTR_FILE}: cannot be read ({exc})") from None
    if header != ATTRIBUTE_NAMES:
        raise SetupError(
            f"{root / ATTR_FILE}: its header (line 2) does not list the 40 CelebA attributes in official order"
        )


def check_checkpoint_readable(path: Path) -> None:
    """A checkpoint torch can read safely (``weights_only``): a truncated or foreign file is one line, not a traceback."""
    from .checkpoint import load_checkpoint

    try:
        payload = load_checkpoint(path)
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds (zip, unpickling, storage) for one cause
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise SetupError(f"{path} cannot be resumed: not a readable checkpoint ({reason})") from None
    if not isinstance(payload, dict) or not {"epoch", "config", "model"} <= payload.keys():
        raise SetupError(f"{path} cannot be resumed: not an AttriCam training checkpoint")


def _check_init_from(cfg: TrainConfig) -> None:
    """``--init-from``: a readable bundle of this run's architecture (its own, when no ``--model-option`` names one)."""
    from attricam.engine.bundle import BundleError, ModelBundle

    if cfg.init_from is None:
        return  # no --init-from: nothing to check
    try:
        bundle = ModelBundle.load(cfg.init_from)
    except BundleError as exc:
        raise SetupError(f"--init-from: {exc}") from None
    wanted = AttributeModelConfig.from_dict(
        {**cfg.model, "image_height": cfg.image_height, "image_width": cfg.image_width}
    )
    same_size = (bundle.config.image_height, bundle.config.image_width) == (cfg.image_height, cfg.image_width)
    if not cfg.model and same_size:
        return  # the trainer builds the bundle's own architecture (trainer._initial_model)
    if bundle.config != wanted:
        raise SetupError(
            f"--init-from {cfg.init_from}: its model ({bundle.config}) differs from this run's ({wanted}); "
            "pass the same --model-option and --image-size"
        )


def check_train_setup(cfg: TrainConfig, *, resume: bool) -> None:
    """Loss options, the checkpoint against ``--resume``, the data roots; clears stale checkpoint temporaries."""
    from .losses import build_loss

    try:
        build_loss(cfg.loss, None, **cfg.loss_options)
    except (TypeError, ValueError) as exc:
        raise SetupError(f"--loss-option: {exc}") from None
    try:
        state_dict_shapes(AttributeModelConfig.from_dict({**cfg.model, "image_height": cfg.image_height}))
    except (TypeError, ValueError) as exc:
        raise SetupError(f"--model-option: {exc}") from None
    if cfg.init_from:
        _check_init_from(cfg)
    if cfg.soft_targets:
        from .soft_targets import load_soft_targets

        try:  # a teacher file that cannot be read fails here, not after minutes of loading faces
            load_soft_targets(cfg.soft_targets)
        except ValueError as exc:
            raise SetupError(f"--soft-targets: {exc}") from None
    try:  # a run folder that is a file, or on a read-only disk, fails here, not after the data has loaded
        check_output_folder(Path(cfg.out), "--out")
    except OutputPathError as exc:
        raise SetupError(str(exc)) from None
    checkpoint = Path(cfg.out) / CHECKPOINT_NAME
    for stale in remove_stale_temps(checkpoint):
        log.info("removed %s, left behind by an interrupted checkpoint write", stale)
    if checkpoint.exists() and not resume:
        raise SetupError(f"{checkpoint} exists; pass --resume to continue it or choose another --out")
    if checkpoint.exists() and resume:
        check_checkpoint_readable(checkpoint)
    for root in cfg.data:
        check_data_root(root)
