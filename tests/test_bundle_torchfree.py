"""Loading a bundle and running the onnx backend never imports torch (~680 MB RSS, ~1 s of start-up).

The torch-free reader (:mod:`attricam.engine.bundle_reader`) must give exactly what
``torch.load(weights_only=True)`` gives, hash alike, and refuse what it refuses.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

from attricam.engine.bundle import BundleError, ModelBundle, default_bundle_path, random_bundle
from attricam.engine.bundle_reader import UnsafeBundleError, _rebuild_tensor_v2, read_torch_zip
from attricam.engine.model import AttributeModelConfig, build_model
from attricam.engine.model_config import state_dict_shapes

REPO = Path(__file__).resolve().parent.parent
TINY = AttributeModelConfig(stem_width=8, stage_widths=(16, 32), stage_blocks=(1, 1), dim=32, heads=2, dim_head=16)
DEEP = AttributeModelConfig(
    stem_width=8, stage_widths=(16, 32, 48), stage_blocks=(2, 1, 3), dim=32, layers=3, ff_mult=3
)

_TORCH_FREE_RUN = """
import json, sys
from attricam.engine.bundle import load_default_bundle
from attricam.engine.image_io import load_image
from attricam.engine.pipeline import FacePipeline, PipelineSettings

bundle = load_default_bundle(allow_random=False)
after_load = "torch" in sys.modules
pipeline = FacePipeline(bundle, PipelineSettings(backend="onnx", detector_backend="onnx", device="cpu"))
result = pipeline.analyze_image(load_image(sys.argv[1]))
print(json.dumps({"after_load": after_load, "after_analyze": "torch" in sys.modules,
                  "faces": len(result.faces), "backend": pipeline.classifier.backend}))
"""


def _shipped() -> Path:
    path = default_bundle_path()
    if not path.is_file() or not path.with_suffix(".onnx").is_file():
        pytest.skip(f"{path}: the shipped model or its ONNX twin is absent")
    return path


def _torch_loaded(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


def test_onnx_pipeline_on_a_real_face_never_imports_torch(celeba_face_paths: list[Path]) -> None:
    _shipped()
    from attricam.engine.mtcnn_export import ensure_exported

    ensure_exported()  # the one-time MTCNN export imports torch: do it here, not in the child
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", _TORCH_FREE_RUN, str(celeba_face_paths[0])],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"after_load": False, "after_analyze": False, "faces": 1, "backend": "onnx"}, out.stderr


@pytest.mark.parametrize("which", ["shipped", "random"])
def test_reader_gives_what_torch_load_gives(which: str, tmp_path: Path) -> None:
    if which == "shipped":
        path = _shipped()
    else:
        path = random_bundle(DEEP, seed=4).save(tmp_path / "random.pt")
    ours, reference = read_torch_zip(path), _torch_loaded(path)
    assert ours.keys() == reference.keys()
    assert all(ours[k] == reference[k] for k in ours if k != "state_dict")
    assert list(ours["state_dict"]) == list(reference["state_dict"])
    for key, tensor in reference["state_dict"].items():
        array = ours["state_dict"][key]
        assert isinstance(array, np.ndarray) and array.dtype == tensor.numpy().dtype, key
        np.testing.assert_array_equal(array, tensor.numpy(), err_msg=key)


def test_hash_is_the_same_whichever_loader_ran(tmp_path: Path) -> None:
    """Arrays hash as the tensors they were saved from, so the stamped ONNX twin stays bound."""
    bundle = random_bundle(TINY, seed=5)
    loaded = ModelBundle.load(bundle.save(tmp_path / "b.pt"))
    assert all(isinstance(v, np.ndarray) for v in loaded.state_dict.values())
    as_tensors = ModelBundle(
        config=loaded.config,
        state_dict={k: torch.from_numpy(v) for k, v in loaded.state_dict.items()},
        thresholds=loaded.thresholds,
        metadata=loaded.metadata,
        calibration=loaded.calibration,
    )
    assert loaded.decision_hash == bundle.decision_hash == as_tensors.decision_hash
    assert loaded.decision_hash == _torch_loaded(tmp_path / "b.pt")["decision_hash"]


def test_shipped_twin_is_bound_to_the_torch_free_load() -> None:
    from attricam.engine.runtime import OnnxClassifier

    bundle = ModelBundle.load(_shipped())
    assert bundle.decision_hash == _torch_loaded(bundle.path)["decision_hash"]
    OnnxClassifier(bundle, "cpu")  # the stamped twin is accepted


def test_loaded_bundle_runs_on_torch_too(tmp_path: Path) -> None:
    bundle = random_bundle(TINY, seed=6)
    model = ModelBundle.load(bundle.save(tmp_path / "b.pt")).build_model()
    images = torch.rand(2, 3, TINY.image_height, TINY.image_width)
    torch.testing.assert_close(model(images)[0], bundle.build_model()(images)[0], rtol=0, atol=0)


@pytest.mark.parametrize("config", [AttributeModelConfig(), TINY, DEEP], ids=["default", "tiny", "deep"])
def test_weight_shapes_known_without_torch_match_the_model(config: AttributeModelConfig) -> None:
    expected = {k: tuple(v.shape) for k, v in build_model(config).state_dict().items()}
    assert state_dict_shapes(config) == expected


def test_a_weight_of_the_wrong_shape_is_refused_at_load(tmp_path: Path) -> None:
    bundle = random_bundle(TINY, seed=0)
    bundle.state_dict["head_bias"] = torch.zeros(39)
    with pytest.raises(BundleError, match=r"inconsistent.*size mismatch for head_bias"):
        ModelBundle.load(bundle.save(tmp_path / "b.pt"))


def _with_pickle(good: Path, out: Path, payload: bytes) -> Path:
    """``good``'s archive with its data.pkl replaced by ``payload``."""
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            data = payload if info.filename.endswith("/data.pkl") else source.read(info)
            target.writestr(info, data)
    return out


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    good = random_bundle(TINY).save(tmp_path / "good.pt")
    hostile = _with_pickle(good, tmp_path / "hostile.pt", pickle.dumps({"format": _RunsCode()}, protocol=2))
    with pytest.raises(UnsafeBundleError, match=r"refused global (os|posix)\.system"):
        read_torch_zip(hostile)
    with pytest.raises(BundleError, match="not a readable AttriCam bundle") as info:
        ModelBundle.load(hostile)
    assert "hostile.pt" in str(info.value)


def test_a_tensor_reaching_past_its_storage_is_refused() -> None:
    """A forged size or stride must not read memory outside the storage."""
    storage = np.zeros(10, np.float32)
    assert _rebuild_tensor_v2(storage, 2, (2, 4), (4, 1), False, OrderedDict()).shape == (2, 4)
    for offset, size, stride in [(0, (400,), (1,)), (8, (3,), (1,)), (0, (2, 4), (7, 1))]:
        with pytest.raises(UnsafeBundleError, match="past its storage"):
            _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())


def test_files_the_reader_does_not_handle_go_to_torch(tmp_path: Path) -> None:
    """A bfloat16 weight: torch reads it (weights_only) and the bundle still loads."""
    bundle = random_bundle(TINY, seed=0)
    bundle.state_dict["head_bias"] = bundle.state_dict["head_bias"].to(torch.bfloat16)
    loaded = ModelBundle.load(bundle.save(tmp_path / "b.pt"))
    assert loaded.state_dict["head_bias"].dtype == torch.bfloat16
    assert isinstance(loaded.state_dict["head_weight"], np.ndarray)
    assert loaded.decision_hash == bundle.decision_hash
