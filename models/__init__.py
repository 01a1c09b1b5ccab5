"""edgegen's Python side (training, data, evaluation) as one package: models.train, models.data, models.eval.

The C sources in this folder are not Python; only the three subpackages are. Run a tool from the repo root as
`python -m models.train.train_voice ...`, or from anywhere after `pip install -e .` (models/PYTHON.md).
"""
