"""Model contract tests, parametrised over configs and both runtimes (timm style)."""

import numpy as np
import pytest
import torch

from attricam.engine.bundle import BundleError, ModelBundle, random_bundle
from attricam.engine.model import AttributeModelConfig, build_model
from attricam.engine.onnx_export import check_parity, export_onnx
from attricam.engine.runtime import OnnxClassifier, TorchClassifier

CONFIGS = {
    "default": AttributeModelConfig(),
    "two-layer": AttributeModelConfig(layers=2, heads=2),
    "larger-input": AttributeModelConfig(image_height=112, image_width=96, stage_blocks=(1, 1)),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_shapes_and_attention_rows(name):
    config = CONFIGS[name]
    model = build_model(config).eval()
    logits, attention = model(torch.rand(3, 3, config.image_height, config.image_width))
    grid_h, grid_w = config.token_grid
    assert logits.shape == (3, 40)
    assert attention.shape == (3, config.layers, config.heads, 40, grid_h, grid_w)
    torch.testing.assert_close(attention.sum(dim=(-1, -2)), torch.ones(3, config.layers, config.heads, 40))


@pytest.mark.parametrize("name", list(CONFIGS))
def test_backward_reaches_every_parameter(name):
    config = CONFIGS[name]
    model = build_model(config)
    logits, _ = model(torch.rand(2, 3, config.image_height, config.image_width))
    logits.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


@pytest.mark.parametrize("name", list(CONFIGS))
def test_onnx_matches_torch(name, tmp_path):
    bundle = random_bundle(CONFIGS[name], seed=1)
    bundle.save(tmp_path / "m.pt")
    path = export_onnx(bundle)
    report = check_parity(bundle, path, faces=5)
    assert report.max_probability_diff <= 1e-4
    assert report.max_attention_diff <= 1e-4


def test_runtimes_batch_and_empty(random_bundle_path):
    bundle = ModelBundle.load(random_bundle_path)
    crops = np.random.default_rng(0).integers(0, 256, (4, 96, 80, 3), dtype=np.uint8)
    for classifier in (TorchClassifier(bundle, "cpu"), OnnxClassifier(bundle, "cpu")):
        out = classifier.predict(crops)
        assert out.probabilities.shape == (4, 40) and ((out.probabilities >= 0) & (out.probabilities <= 1)).all()
        single = classifier.predict(crops[2:3])
        np.testing.assert_allclose(single.probabilities[0], out.probabilities[2], atol=1e-5)
        empty = classifier.predict(crops[:0])
        assert empty.probabilities.shape == (0, 40) and empty.attention.shape[0] == 0


def test_bundle_roundtrip_keeps_config_thresholds_metadata(tmp_path):
    bundle = random_bundle(CONFIGS["two-layer"], seed=3)
    bundle.thresholds = [0.3] * 40
    bundle.metadata["recipe"] = "focal"
    path = bundle.save(tmp_path / "b.pt")
    loaded = ModelBundle.load(path)
    assert loaded.config == CONFIGS["two-layer"]
    assert loaded.thresholds == [0.3] * 40 and loaded.metadata["recipe"] == "focal" and not loaded.trained
    for key, value in bundle.state_dict.items():
        torch.testing.assert_close(torch.as_tensor(loaded.state_dict[key]), value)


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "not a readable"), (b"not a checkpoint at all", "not a readable"), (None, "not found")],
)
def test_bad_bundles_raise_one_clear_error(tmp_path, content, reason):
    path = tmp_path / "broken.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(BundleError, match=reason) as info:
        ModelBundle.load(path)
    assert str(path) in str(info.value)


def test_truncated_bundle_and_foreign_pickle_are_rejected(tmp_path):
    good = random_bundle().save(tmp_path / "good.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(BundleError, match=r"truncated\.pt"):
        ModelBundle.load(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(BundleError, match="not an AttriCam bundle"):
        ModelBundle.load(foreign)
