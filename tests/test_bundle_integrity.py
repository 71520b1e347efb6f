"""Bundles that would predict silently wrong: a stale ONNX twin, NaN weights or thresholds, a missing shipped model."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest
import torch

from attricam.engine import assets
from attricam.engine.bundle import BundleError, ModelBundle, load_default_bundle, random_bundle
from attricam.engine.bundle_checks import decision_hash
from attricam.engine.model import AttributeModelConfig
from attricam.engine.onnx_export import export_onnx
from attricam.engine.runtime import OnnxClassifier, StaleOnnxError, TorchClassifier, load_classifier

TINY = AttributeModelConfig(
    stem_width=8, stage_widths=(16, 32), stage_blocks=(1, 1), dim=32, heads=2, dim_head=16, layers=1
)


@pytest.fixture(scope="module")
def bound_pair(tmp_path_factory) -> Path:
    """A tiny bundle saved with its freshly exported (stamped) twin."""
    path = tmp_path_factory.mktemp("pair") / "model.pt"
    bundle = random_bundle(TINY, seed=1)
    bundle.save(path)
    export_onnx(bundle, path.with_suffix(".onnx"))
    return path


def _stale_copy(bound_pair: Path, folder: Path, *, change: str) -> Path:
    """The same .onnx beside a bundle whose weights or thresholds changed after the export."""
    bundle = ModelBundle.load(bound_pair)
    if change == "weights":
        bundle = random_bundle(TINY, seed=2)
    else:
        bundle.thresholds = [0.3] * 40
    path = bundle.save(folder / "model.pt")
    path.with_suffix(".onnx").write_bytes(bound_pair.with_suffix(".onnx").read_bytes())
    return path


def test_hash_survives_save_and_load_and_covers_every_decision_field(tmp_path: Path) -> None:
    bundle = random_bundle(TINY, seed=0)
    loaded = ModelBundle.load(bundle.save(tmp_path / "b.pt"))
    assert loaded.decision_hash == bundle.decision_hash
    loaded.metadata["note"] = "provenance does not change a prediction"
    assert loaded.decision_hash == bundle.decision_hash
    loaded.thresholds = [0.4] * 40
    assert loaded.decision_hash != bundle.decision_hash
    loaded.thresholds = list(bundle.thresholds)
    loaded.state_dict = {k: v.copy() for k, v in loaded.state_dict.items()}  # numpy arrays after load
    next(iter(loaded.state_dict.values())).reshape(-1)[0] += 1e-3
    assert loaded.decision_hash != bundle.decision_hash


def test_hash_covers_decision_fields_added_later() -> None:
    """A calibration field (or any other) is hashed without touching bundle_checks."""
    from dataclasses import dataclass, field

    @dataclass
    class WithCalibration(ModelBundle):
        calibration: list = field(default_factory=lambda: [[1.0, 0.0]] * 40)

    base = random_bundle(TINY, seed=0)
    a = WithCalibration(base.config, base.state_dict, base.thresholds, dict(base.metadata))
    b = WithCalibration(
        base.config, base.state_dict, base.thresholds, dict(base.metadata), calibration=[[2.0, 0.0]] * 40
    )
    assert decision_hash(a) != decision_hash(b)


def test_bound_twin_is_used(bound_pair: Path) -> None:
    classifier = load_classifier(ModelBundle.load(bound_pair), "auto", "cpu")
    assert classifier.backend == "onnx"


@pytest.mark.parametrize("change", ["weights", "thresholds"])
def test_stale_twin_falls_back_to_torch_with_a_warning(
    bound_pair: Path, tmp_path: Path, change: str, caplog: pytest.LogCaptureFixture
) -> None:
    bundle = ModelBundle.load(_stale_copy(bound_pair, tmp_path, change=change))
    with caplog.at_level(logging.WARNING, logger="attricam.engine.runtime"):
        classifier = load_classifier(bundle, "auto", "cpu")
    assert isinstance(classifier, TorchClassifier)
    assert "different version" in caplog.text and "export-onnx" in caplog.text and "torch backend" in caplog.text
    with pytest.raises(StaleOnnxError, match="re-export it with `attricam export-onnx"):
        load_classifier(bundle, "onnx", "cpu")


def test_unstamped_twin_is_checked_against_torch(bound_pair: Path, tmp_path: Path) -> None:
    """Exports made before the hash existed (the shipped one) are trusted only when they agree with torch."""
    import onnx

    stale = _stale_copy(bound_pair, tmp_path, change="weights")
    model = onnx.load(str(stale.with_suffix(".onnx")))
    del model.metadata_props[:]
    onnx.save(model, str(stale.with_suffix(".onnx")))
    with pytest.raises(StaleOnnxError, match="carries no bundle hash and disagrees"):
        OnnxClassifier(ModelBundle.load(stale), "cpu")
    same = onnx.load(str(bound_pair.with_suffix(".onnx")))
    del same.metadata_props[:]
    onnx.save(same, str(tmp_path / "unstamped.onnx"))
    OnnxClassifier(ModelBundle.load(bound_pair), "cpu", onnx_path=tmp_path / "unstamped.onnx")  # agrees: accepted


@pytest.mark.parametrize("where", ["weight", "threshold", "inf-threshold"])
def test_non_finite_numbers_are_refused_at_load(tmp_path: Path, where: str) -> None:
    bundle = random_bundle(TINY, seed=0)
    if where == "weight":
        name = next(k for k, v in bundle.state_dict.items() if v.is_floating_point())
        bundle.state_dict[name] = bundle.state_dict[name].clone()
        bundle.state_dict[name].view(-1)[3] = math.nan
        expected = f"state_dict['{name}'] (1 of"
    else:
        bundle.thresholds = [0.5] * 39 + [math.nan if where == "threshold" else math.inf]
        expected = "thresholds[39]"
    path = bundle.save(tmp_path / "bad.pt")
    with pytest.raises(BundleError, match="non-finite") as info:
        ModelBundle.load(path)
    assert expected in str(info.value) and str(path) in str(info.value)


def test_missing_shipped_model_fails_loudly_or_says_random(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(assets, "asset_folders", lambda: (tmp_path / "assets", tmp_path / "pkg" / "assets"))
    with pytest.raises(BundleError, match=r"attricam-default\.pt is missing") as info:
        load_default_bundle(allow_random=False)
    assert str(tmp_path / "assets") in str(info.value) and "--model" in str(info.value)
    with caplog.at_level(logging.WARNING, logger="attricam.engine.bundle"):
        bundle = load_default_bundle()
    assert not bundle.trained and "RANDOM" in caplog.text
    assert bundle.notice.startswith("NO MODEL — random weights") and str(tmp_path / "assets") in bundle.notice


def test_shipped_model_is_found_in_the_installed_package_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wheel carries the model in attricam/assets/ (no top-level assets/ folder exists there)."""
    package_assets = tmp_path / "site-packages" / "attricam" / "assets"
    random_bundle(TINY).save(package_assets / "attricam-default.pt")
    monkeypatch.setattr(assets, "asset_folders", lambda: (tmp_path / "site-packages" / "assets", package_assets))
    assert load_default_bundle(allow_random=False).path == package_assets / "attricam-default.pt"


def test_trained_bundle_has_no_notice() -> None:
    bundle = random_bundle(TINY)
    bundle.metadata["trained"] = True
    assert bundle.notice == "" and torch.isfinite(next(iter(bundle.state_dict.values()))).all()
