"""One rank of the tiny DDP run of ``test_training_distributed`` (``torchrun ... -m tests.ddp_worker OUT EPOCHS``)."""

from __future__ import annotations

import json
import sys

from tests.test_training_distributed import tiny_config, tiny_faces
from training.trainer import main

if __name__ == "__main__":
    out, epochs = sys.argv[1], int(sys.argv[2])
    result = main(tiny_config(out), faces=tiny_faces(), resume=True, max_epochs_this_run=epochs)
    print(json.dumps({k: v for k, v in result.items() if k in ("rank", "epochs_done", "finished")}))
