"""Config loading: every mistake is one line naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from frwatch.config import load_config
from frwatch.errors import FrwatchError
from tests.support.crawl import run_cli
from tests.support.paths import DEMO_WEB, REPO

GOOD = """
topic:
  name: Facial recognition policy
  seeds: [articles/seed.md]
  keywords: [facial recognition]
sources:
  - name: Example Daily
    feeds: [https://example.com/rss.xml]
crawl:
  max_age_days: 30
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("text, message", [
    (GOOD.replace("max_age_days: 30", "max_age_days: 30\n  colour: blue"),
     "crawl.colour: unknown key"),
    (GOOD.replace("https://example.com/rss.xml", "example.com/rss.xml"),
     "sources.0.feeds.0: not an http(s) URL with a host: 'example.com/rss.xml'"),
    (GOOD.replace("max_age_days: 30", "max_age_days: soon"),
     "crawl.max_age_days: Input should be a valid integer"),
    (GOOD.replace("  name: Facial recognition policy\n", ""),
     "topic.name: required field is missing"),
    (GOOD.replace("feeds: [", "feeds: [[").replace(".xml]", ".xml]]"),
     "sources.0.feeds.0: Input should be a valid string"),
    ("topic: [\n", "YAML syntax error"),
    ("- just\n- a list\n", "expected a mapping"),
])
def test_bad_config_is_one_line_naming_file_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(FrwatchError) as caught:
        load_config(path)
    error = str(caught.value)
    assert error.startswith(f"{path}: ")
    assert message in error
    assert "\n" not in error


def test_paths_are_relative_to_the_config_file(tmp_path):
    config = load_config(write(tmp_path, GOOD + "db: store/frwatch.db\n"))
    assert config.db_path == tmp_path / "store" / "frwatch.db"
    assert config.seed_paths == [tmp_path / "articles" / "seed.md"]


def test_cli_prints_one_line_and_exits_non_zero(tmp_path):
    path = write(tmp_path, GOOD.replace("max_age_days: 30", "max_age_days: -3"))
    proc = run_cli("crawl", "--config", str(path), "--db", str(tmp_path / "x.db"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        f"frwatch: error: {path}: crawl.max_age_days: Input should be greater than or equal to 1"]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.db").exists()


def test_missing_config_file(tmp_path):
    proc = run_cli("status", "--config", str(tmp_path / "nope.yaml"), check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"frwatch: error: {tmp_path / 'nope.yaml'}: config file not found"


def test_shipped_configs_load():
    default = load_config(REPO / "seeds" / "sources.yaml")
    assert len(default.sources) >= 10
    assert all(path.is_file() for path in default.seed_paths)
    urls = [u for s in default.sources for u in (*s.feeds, *s.sitemaps, *s.pages)]
    assert urls and all(u.startswith("https://") for u in urls)
    assert not default.crawl.allow_private_addresses
    demo = load_config(DEMO_WEB / "sources.yaml")
    assert demo.crawl.allow_private_addresses
    assert all(path.is_file() for path in demo.seed_paths)
