"""One rank of the tiny DDP run of ``test_training_distributed`` (``torchrun ... -m tests.ddp_worker OUT EPOCHS``)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from attricam.training.trainer import main
from tests.test_training_distributed import tiny_config, tiny_faces

if __name__ == "__main__":
    out, epochs = sys.argv[1], int(sys.argv[2])
    result = main(tiny_config(out), faces=tiny_faces(), resume=True, max_epochs_this_run=epochs)
    # One file per rank: torchrun merges the ranks' stdout, and two lines written at once can interleave.
    summary = {k: v for k, v in result.items() if k in ("rank", "epochs_done", "finished")}
    Path(out).mkdir(parents=True, exist_ok=True)
    Path(out, f"rank-{os.environ['RANK']}.json").write_text(json.dumps(summary))
