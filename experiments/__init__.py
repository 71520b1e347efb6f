"""Model studies: what the shipped model does on val, real photos and shifted inputs, and why.

Each is run from the checkout as ``.venv/bin/python -m experiments.NAME`` (``--help`` for its options);
the README, docs/model-limits.md and assets/MODEL_CARD.md quote their figures. Speed is measured in
``benchmarks/``, not here.
"""
