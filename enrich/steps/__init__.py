"""The steps of `frwatch enrich`, each a small unit over an `EnrichStore`:

- `embed`: the model's vectors of articles and seeds (`Embedding`, `Vectors`, `Seeds`);
- `relevance`: evidence and the fitted model's verdict, rescoring when the topic, seeds,
  labels or calibration change (`Relevance`);
- `reprints`: syndicated copies linked to their original (`Reprints`);
- `clusters`: articles assigned to story clusters, seed stories marked (`Clusters`).

Each step is given what it reads in `__init__` and holds no state set anywhere else; the
pure logic they use lives beside them in `enrich/relevance.py`, `enrich/reprints.py` and
`enrich/clusters.py`; `enrich/run.py` wires them together.
"""
