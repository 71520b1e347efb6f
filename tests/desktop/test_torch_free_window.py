"""The live window serves the shipped model on onnxruntime without importing torch (~700 MB of RSS), with the
full cascade on its own thread as in ``attricam bench``."""

import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

_PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import attricam.desktop.main_window, attricam.desktop.training_tab, attricam.desktop.dashboard_tab
from attricam.desktop.live_analysis import default_pipeline
pipeline = default_pipeline(1)
print(pipeline.settings.background_detection, pipeline.classifier.backend, "torch" in sys.modules)
"""


@pytest.mark.slow
def test_window_modules_and_default_pipeline_leave_torch_unimported():
    if not (REPO_ROOT / "assets" / "attricam-default.onnx").is_file():
        pytest.skip("no shipped ONNX twin in assets/")
    done = subprocess.run([sys.executable, "-c", _PROBE], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-3:] == ["True", "onnx", "False"], done.stdout  # background detection, like bench
