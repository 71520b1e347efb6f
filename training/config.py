"""The frozen configuration of a training run, stored in every checkpoint and bundle as a plain dict.

Every field carries its ``attricam train`` option in ``metadata`` (flag, help, choices:
:func:`attricam.training.cli.add_train_arguments` builds the parser from them), and fields a
user tunes also a label and a range: the GUI's recipe form is built from those
(:func:`tunable_fields`). So a hyper-parameter and its default are written here once. Like :mod:`attricam.training.events` this module imports only the
standard library and the torch-free :mod:`attricam.engine.model_config`: the desktop may import it.
"""

from __future__ import annotations

import os
import typing
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from pathlib import Path

from attricam.engine.model_config import CROP_MARGIN, IMAGE_HEIGHT, IMAGE_WIDTH
from attricam.engine.runtime import DEVICES
from attricam.engine.workspace import checkout_root, user_data_dir

__all__ = [
    "BUNDLE_NAME",
    "CELEBA_ATTR_FILE",
    "CELEBA_IMAGE_DIR",
    "CELEBA_PARTITION_FILE",
    "CHECKPOINT_NAME",
    "DATA_ROOT_HELP",
    "EVALUATE_SPLITS",
    "DEVICES",
    "FREEZE_CHOICES",
    "FROZEN_DEFAULT_EPOCHS",
    "DEFAULT_THRESHOLD_POLICY",
    "LOSS_HELP",
    "LOSS_NAMES",
    "PRECISIONS",
    "SAMPLERS",
    "SAMPLER_HELP",
    "THRESHOLD_POLICIES",
    "EvaluateConfig",
    "TrainConfig",
    "celeba_root_problem",
    "default_data_root",
    "shared_data_dir",
    "field_type",
    "tunable_fields",
]

LOSS_NAMES = ("bce", "weighted", "focal", "aggressive-focal", "class-balanced", "ldam", "asl")
"""The recipes of :mod:`attricam.training.losses`; here so the GUI can list them without importing torch."""
LOSS_HELP = {
    "bce": "plain binary cross-entropy (the all-negative trap baseline)",
    "weighted": "BCE with positive weights clip(1/(f+0.001), 1, cap)",
    "focal": "focal loss (Lin et al. 2017), positive weight 1 (loss option focal_pos_weights=true adds capped ones)",
    "aggressive-focal": "focal + capped positive weights + diversity penalty",
    "class-balanced": "effective-number weights (Cui et al. 2019)",
    "ldam": "LDAM margins + deferred re-weighting (Cao et al. 2019)",
    "asl": "asymmetric loss (Ridnik et al. 2021)",
}
SAMPLERS = ("random", "balanced", "curriculum")
"""The batch orders of :mod:`attricam.training.sampling`."""
FREEZE_CHOICES = ("backbone",)
"""What ``--freeze`` can keep fixed: ``backbone`` (the CNN and its token projection; see training/frozen_tokens.py)."""
FROZEN_DEFAULT_EPOCHS = 3
"""Epochs of a frozen-backbone run when none are given: the head converges in a few passes over cached tokens."""
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
"""Autocast dtype of the forward pass; ``auto``: bf16 on GPUs that have it, else fp16 on GPUs, fp32 on CPU."""

SAMPLER_HELP = {
    "random": "every face once per epoch, in a seeded random order",
    "balanced": "faces drawn by 1 / rate of their rarest attribute (pair with bce: weighted losses double-correct)",
    "curriculum": "balanced, rare-attribute faces admitted gradually over the first half of the run",
}
THRESHOLD_POLICIES = ("accuracy", "balanced_accuracy", "mean_acc_balacc", "f1", "hybrid", "hybrid_acc_balacc")
"""The per-attribute threshold rules of :mod:`attricam.training.thresholds`."""
DEFAULT_THRESHOLD_POLICY = "auto"
"""Not a rule of its own: the rule with the least shortfall to the product targets, chosen per fit."""


CHECKPOINT_NAME = "checkpoint.pt"
"""The resumable checkpoint in a run folder."""
BUNDLE_NAME = "model.pt"
"""The model bundle a run folder ends with."""
DATA_ROOT_HELP = (
    "$ATTRICAM_DATA, else ../shared/celeba beside the checkout (an installed wheel: the user data folder's celeba/)"
)
"""Where :func:`default_data_root` looks, in words for ``--help`` texts."""


def shared_data_dir(name: str) -> Path:
    """``../shared/NAME`` beside the checkout (an installed wheel: the user data folder's NAME).

    The one place that knows where the data sets live that no repository may hold: ``celeba``,
    ``celeba-lowres`` and ``real-photos``. Scripts default their ``--data`` / ``--photos`` to it.
    """
    root = checkout_root()
    return root.parent / "shared" / name if root else user_data_dir() / name


def default_data_root() -> Path:
    """``$ATTRICAM_DATA`` or ``../shared/celeba`` beside the repository (see :data:`DATA_ROOT_HELP`)."""
    env = os.environ.get("ATTRICAM_DATA")
    return Path(env) if env else shared_data_dir("celeba")


CELEBA_IMAGE_DIR = "img_align_celeba"
"""A CelebA root's folder of aligned images."""
CELEBA_ATTR_FILE = "list_attr_celeba.txt"
"""A CelebA root's attribute table (count, header of the 40 names, one row per image)."""
CELEBA_PARTITION_FILE = "list_eval_partition.txt"
"""A CelebA root's split of every image: 0 train, 1 val, 2 test."""


def celeba_root_problem(root: str | Path) -> str:
    """'' when ``root`` looks like a CelebA root (its image folder and attribute table), else what is missing:
    the quick check of a folder a person picked. ``attricam.training.preflight.check_data_root`` checks all
    of it (partition file, attribute header) when a job starts."""
    root = Path(root)
    if (root / CELEBA_IMAGE_DIR).is_dir() and (root / CELEBA_ATTR_FILE).is_file():
        return ""
    return f"{root}: not a CelebA root (needs {CELEBA_IMAGE_DIR}/ and {CELEBA_ATTR_FILE})"


def _cli(flag: str | None = None, help: str = "", **meta: typing.Any) -> dict[str, typing.Any]:
    """A field's ``attricam train`` option, as field metadata: ``flag`` (default ``--field-name``; ``--no-...`` on a
    True bool clears it), ``aliases``, ``help``, ``cli_help`` (the command line's, where it says more than the
    form's), ``choices``, ``metavar``. :func:`attricam.training.train_options.add_train_arguments` builds the options from it."""
    return {"flag": flag, "help": help, **meta}


def _option(default: typing.Any = MISSING, flag: str | None = None, help: str = "", **meta: typing.Any) -> typing.Any:
    """A field with its command-line option (see :func:`_cli`)."""
    return field(default=default, metadata=_cli(flag, help, **meta))


def _tunable(
    default: typing.Any, label: str, help: str = "", flag: str | None = None, **meta: typing.Any
) -> typing.Any:
    """A field the recipe form shows too: ``range=(lo, hi)``, ``step``, ``decimals`` or ``choices``."""
    return _option(default, flag, help, label=label, **meta)


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...] = _option(
        MISSING, "--data", f"CelebA root; repeat or comma-separate (full-size first). Default {DATA_ROOT_HELP}"
    )
    """CelebA roots, full-size first (it wins on duplicate images)."""
    out: str = _option(MISSING, "--out", "run directory (checkpoint, model.pt, reports); required without --config")
    loss: str = _tunable("weighted", "Loss", choices=LOSS_NAMES, choice_help=LOSS_HELP)
    loss_options: dict[str, typing.Any] = field(
        default_factory=dict,
        metadata=_cli("--loss-option", "any other LossConfig field, e.g. beta=0.999 or diversity_weight=0.2"),
    )
    """Extra :class:`attricam.training.losses.LossConfig` fields, e.g. ``{"gamma": 3.0, "weight_cap": 20}``. This dict
    and the two below hold values as a config file gave them (any JSON), checked by ``config_checks``."""
    sampler: str = _tunable(
        "random",
        "Sampler",
        choices=SAMPLERS,
        choice_help=SAMPLER_HELP,
        cli_help="batch order: random; balanced (faces drawn by 1/rate of their rarest positive attribute); "
        "curriculum (balanced, rare-attribute faces admitted gradually over the first half of the run)",
    )
    """Batch order, a :data:`attricam.training.sampling.SAMPLERS` name: ``random``, ``balanced`` or ``curriculum``."""
    epochs: int = _tunable(12, "Epochs", range=(1, 500), cli_help=f"default 12 ({FROZEN_DEFAULT_EPOCHS} with --freeze)")
    lr: float = _tunable(2e-3, "Learning rate", "peak AdamW learning rate", range=(1e-5, 1.0), step=5e-4, decimals=5)
    weight_decay: float = _tunable(0.05, "Weight decay", range=(0.0, 1.0), step=0.01, decimals=4)
    batch_size: int = _tunable(128, "Batch size", flag="--batch", range=(2, 4096))
    warmup_epochs: float = _option(1.0, help="epochs of linear learning-rate warm-up")
    min_lr_ratio: float = _option(0.02, help="the cosine schedule's last learning rate, as a share of --lr")
    grad_clip: float = _option(5.0, help="gradient norm clip")
    seed: int = _tunable(0, "Seed", range=(0, 2**31 - 1))
    image_height: int = _option(IMAGE_HEIGHT, "--image-size", f"HEIGHTxWIDTH, default {IMAGE_HEIGHT}x{IMAGE_WIDTH}")
    image_width: int = _option(IMAGE_WIDTH, "--image-size", f"HEIGHTxWIDTH, default {IMAGE_HEIGHT}x{IMAGE_WIDTH}")
    margin: int = _option(CROP_MARGIN, help="pixels of face crop kept around the model input, for augmentation")
    cache_dir: str | None = _option(None, "--cache", "face cache directory (default ./cache)")
    train_limit: int | None = _tunable(None, "Train images", "first N train images per root", range=(0, 1_000_000))
    """Use only the first n train images of each root (quick runs, recipe comparisons)."""
    val_limit: int | None = _tunable(None, "Val images", "first N val images per root", range=(0, 1_000_000))
    calibration_fraction: float = _option(
        0.12, help="share of train identities held back to select the checkpoint and fit calibration (0: use val)"
    )
    """Share of train identities held back to select the checkpoint and fit the decision rule (0: use val)."""
    ema_decay: float = _option(0.998, help="weight EMA that is evaluated and shipped (0: off)")
    """Decay of the weights' moving average that is evaluated, selected and shipped (0: off)."""
    threshold_policy: str = _tunable(
        DEFAULT_THRESHOLD_POLICY,
        "Thresholds",
        choices=(DEFAULT_THRESHOLD_POLICY, *THRESHOLD_POLICIES),
        cli_help="per-attribute threshold rule on val; auto = least shortfall to the product targets",
    )
    """A :data:`THRESHOLD_POLICIES` name, or ``auto`` (least shortfall to the product targets)."""
    stuck_fixes: bool = _tunable(
        True,
        "apply emergency fixes when an attribute is stuck",
        flag="--no-stuck-fixes",
        cli_help="flag stuck attributes but do not fix them",
    )
    num_threads: int = _option(2, "--threads", "torch threads per process")
    workers: int = _option(2, help="face-detection processes when building the cache")
    device: str = _option("auto", help="auto: cuda when PyTorch sees a GPU, else cpu", choices=DEVICES)
    """A :data:`DEVICES` name; under torchrun each rank takes the GPU of its ``LOCAL_RANK``."""
    precision: str = _option(
        "auto", help="autocast dtype; auto: bf16 (or fp16 with a GradScaler) on GPUs, fp32 on CPU", choices=PRECISIONS
    )
    """A :data:`PRECISIONS` name; fp16 runs with a GradScaler whose state is checkpointed."""
    loader_workers: int | None = _option(
        None, help="DataLoader processes augmenting batches ahead (default: 0 on CPU, up to 8 per GPU)"
    )
    """DataLoader processes that augment batches ahead (None: 0 on CPU, up to 8 per GPU)."""
    model: dict[str, typing.Any] = field(
        default_factory=dict,
        metadata=_cli(
            "--model-option",
            "a field of the model's config, e.g. stem_width=32 or stage_widths=64,128 (default: the shipped size)",
        ),
    )
    """Overrides of :class:`attricam.engine.model.AttributeModelConfig` fields other than the image size."""
    init_from: str | None = _option(
        None,
        "--init-from",
        "start from this bundle's weights (fine-tuning, e.g. with new attention regions), in its own architecture "
        "unless --model-option names one (which must then match it)",
        aliases=("--from",),
        metavar="BUNDLE.pt",
    )
    """A bundle whose weights the run starts from instead of a random init (same model config): fine-tuning."""
    freeze: str | None = _option(
        None,
        help="with --from: keep the bundle's CNN and train the attribute queries, cross-attention and heads afresh "
        "(seeded) on token grids cached once per face (cache/tokens-*.npy, shared by every run on that bundle and "
        "faces); calibration, report, bundle and ONNX twin as for a full run. No augmentation: the tokens are "
        f"those of the un-augmented centre crop (no flips). --epochs defaults to {FROZEN_DEFAULT_EPOCHS}",
        choices=FREEZE_CHOICES,
    )
    """``backbone``: keep ``init_from``'s CNN and train only queries, cross-attention and heads on cached token
    grids (no augmentation: tokens are computed once per face from the centre crop)."""
    soft_targets: str | None = _option(
        None,
        help="distil a teacher: a .npz of its probabilities per train face (python -m attricam.training.distill "
        "writes a fused bundle's); each training face's targets become (1 - w) * labels + w * teacher. The "
        "calibration slice and val keep their labels",
        metavar="TARGETS.npz",
    )
    """Teacher probabilities the training targets are blended with (knowledge distillation; None: labels only)."""
    soft_target_weight: float = _option(0.5, help="w above: the teacher's share of each training target (0 to 1)")
    augment: dict[str, typing.Any] = field(
        default_factory=dict,
        metadata=_cli("--no-camera-shift", "train without JPEG/blur/noise/low-res/colour-cast augmentation"),
    )
    """Overrides of :class:`attricam.training.augment.AugmentConfig` fields."""
    export_onnx: bool = _option(True, "--no-onnx", "do not write the bundle's ONNX twin")
    name: str = _option("attricam", help="the run's name, in its events and bundle")

    def __post_init__(self) -> None:
        if self.threshold_policy not in (DEFAULT_THRESHOLD_POLICY, *THRESHOLD_POLICIES):
            raise ValueError(
                f"unknown threshold policy {self.threshold_policy!r}; "
                f"valid: {', '.join((DEFAULT_THRESHOLD_POLICY, *THRESHOLD_POLICIES))}"
            )
        if self.sampler not in SAMPLERS:  # fail before minutes of data loading, not at the first batch
            raise ValueError(f"unknown sampler {self.sampler!r}; valid: {', '.join(SAMPLERS)}")
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; valid: {', '.join(DEVICES)}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if self.freeze is not None and self.freeze not in FREEZE_CHOICES:
            raise ValueError(f"unknown freeze {self.freeze!r}; valid: {', '.join(FREEZE_CHOICES)}")
        if self.freeze and not self.init_from:
            raise ValueError(f"freeze={self.freeze} keeps a trained bundle's {self.freeze}: name it with --from BUNDLE")
        if not isinstance(self.epochs, int) or self.epochs < 1:  # zero epochs would ship random weights as trained
            raise ValueError(f"epochs must be >= 1, got {self.epochs!r}")

    def to_dict(self) -> dict[str, typing.Any]:
        d = asdict(self)
        d["data"] = list(self.data)
        d["augment"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.augment.items()}
        return d

    @classmethod
    def from_dict(cls, data: dict[str, typing.Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown training config keys {sorted(unknown)}; known: {sorted(known)}")
        values = dict(data)
        values["data"] = tuple(values["data"])
        if "augment" in values:
            values["augment"] = {k: tuple(v) if isinstance(v, list) else v for k, v in values["augment"].items()}
        return cls(**values)


EVALUATE_SPLITS = ("train", "val", "test")
"""The CelebA partitions ``attricam evaluate`` scores."""


@dataclass(frozen=True)
class EvaluateConfig:
    """What ``attricam evaluate`` does: one bundle scored on a split, written as a report (see
    :class:`attricam.training.events.EvaluationReport`). ``attricam evaluate --config FILE`` reads it, as the
    GUI's dashboard starts it; without ``--config`` the options build it."""

    model: str
    """The model bundle (.pt)."""
    data: tuple[str, ...] = ()
    """CelebA roots; () for :func:`default_data_root`."""
    split: str = "val"
    limit: int | None = None
    """First N images per root (None: all)."""
    cache_dir: str | None = None
    workers: int = 2
    """Face-detection processes when the face cache is built."""
    out: str | None = None
    """Report folder (None: ``<bundle stem>-eval`` beside the bundle)."""
    shifted: bool = True
    """Also score the camera-shifted copy of the split (pose, JPEG, blur, ...)."""
    plots: bool = True
    """Write the matplotlib PNGs."""
    threads: int = 2

    def __post_init__(self) -> None:
        if self.split not in EVALUATE_SPLITS:
            raise ValueError(f"unknown split {self.split!r}; valid: {', '.join(EVALUATE_SPLITS)}")
        for name in ("workers", "threads"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.limit is not None and (not isinstance(self.limit, int) or self.limit < 1):
            raise ValueError(f"limit must be >= 1 (or None for all), got {self.limit!r}")

    def to_dict(self) -> dict[str, typing.Any]:
        d = asdict(self)
        d["data"] = list(self.data)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, typing.Any]) -> EvaluateConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown evaluation config keys {sorted(unknown)}; known: {sorted(known)}")
        if "model" not in data:
            raise ValueError("an evaluation config names its 'model' (a bundle .pt)")
        return cls(**{**data, "data": tuple(data.get("data") or ())})


def tunable_fields() -> tuple[Field[typing.Any], ...]:
    """The :class:`TrainConfig` fields a recipe form offers, in declaration order (those with a ``label``)."""
    return tuple(f for f in fields(TrainConfig) if "label" in f.metadata)


def field_type(f: Field[typing.Any]) -> type:
    """The value type of a field: ``int`` for ``int | None`` (None is shown as 0, "all")."""
    hint: type = typing.get_type_hints(TrainConfig)[f.name]
    args: list[type] = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint
