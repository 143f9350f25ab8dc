"""The fitted parameters of relevance, reprints and clusters, kept in a JSON file.

`frwatch calibrate` (or `python -m benchmarks.enrich --calibrate`) writes it from the
labelled set and users' labels. A config names its file (`enrich.calibration`, default
`calibration.json` beside the config); `default` means the one shipped with frwatch. A
named file that is missing is an error, never a silent fallback.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from enrich.clusters import ClusterRule
from enrich.relevance import RelevanceModel
from enrich.reprints import ReprintRule
from frwatch.errors import FrwatchError

# A hand-set starting point (raw, unstandardised features) for fitting from nothing.
STARTING_RELEVANCE = RelevanceModel(intercept=-3.0, weights={
    "term_title": 1.0, "term_lead": 1.0, "term_mentions": 1.0, "context_mentions": 0.3,
    "term_x_context": 1.0, "against_mentions": -0.7, "topic_similarity": 2.0,
    "topic_contrast": 4.0, "exemplar_similarity": 1.0, "foreign": 0.0, "headline_only": 0.0})


@dataclass(frozen=True)
class Calibration:
    relevance: RelevanceModel = STARTING_RELEVANCE
    reprints: ReprintRule = field(default_factory=ReprintRule)
    clusters: ClusterRule = field(default_factory=ClusterRule)
    note: str = "hand-set starting point"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    def signature(self) -> str:
        return json.dumps(asdict(self.relevance), sort_keys=True)


def load_calibration(path: Path) -> Calibration:
    if not path.is_file():
        raise FrwatchError(f"{path}: calibration file not found (set enrich.calibration to "
                           "`default` for the one shipped with frwatch, or run `frwatch "
                           "calibrate`)")
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
