"""The fitted parameters of relevance, reprints and clusters, kept in a JSON file.

`python -m benchmarks.enrich --calibrate` writes it from the labelled set; the values
below are what it wrote last for the shipped topic, used when the file is missing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from enrich.clusters import ClusterRule
from enrich.relevance import RelevanceModel
from enrich.reprints import ReprintRule
from frwatch.errors import FrwatchError

DEFAULT_RELEVANCE = RelevanceModel(intercept=-4.0, seed_similarity=6.0,
                                   similarity_x_mentions=4.0, similarity_x_lead=4.0,
                                   threshold=0.5)


@dataclass(frozen=True)
class Calibration:
    relevance: RelevanceModel = DEFAULT_RELEVANCE
    reprints: ReprintRule = field(default_factory=ReprintRule)
    clusters: ClusterRule = field(default_factory=ClusterRule)
    note: str = "built-in defaults"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def signature(self) -> str:
        return json.dumps(asdict(self.relevance), sort_keys=True)


def load_calibration(path: Path) -> Calibration:
    if not path.is_file():
        return Calibration()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Calibration(
            relevance=RelevanceModel(**raw["relevance"]),
            reprints=ReprintRule(**raw["reprints"]),
            clusters=ClusterRule(**raw["clusters"]),
            note=str(raw.get("note", "")),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FrwatchError(f"{path}: not a valid calibration file: {exc}") from None
