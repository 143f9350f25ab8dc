"""The benchmark's labelled set refuses to shrink: a lost or truncated file is one line."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.labelled import check_labelled_files
from enrich.calibrate import LABELLED_DIR
from frwatch.errors import FrwatchError


@pytest.fixture
def labelled(tmp_path):
    folder = tmp_path / "labelled"
    shutil.copytree(LABELLED_DIR, folder)
    return folder


def test_the_shipped_set_is_complete(labelled):
    check_labelled_files(labelled)


def test_a_missing_file_is_one_line(labelled):
    (labelled / "en-law.jsonl").unlink()
    with pytest.raises(FrwatchError, match=r"en-law\.jsonl: missing .* 46 articles") as info:
        check_labelled_files(labelled)
    assert "\n" not in str(info.value)


def test_a_truncated_file_is_one_line(labelled):
    lines = (labelled / "stubs.jsonl").read_text(encoding="utf-8").splitlines()
    (labelled / "stubs.jsonl").write_text("\n".join(lines[:-3]) + "\n", encoding="utf-8")
    with pytest.raises(FrwatchError, match=r"stubs\.jsonl: 21 articles, README.md lists 24"):
        check_labelled_files(labelled)


def test_more_articles_and_new_files_are_fine(labelled):
    first = (labelled / "core-en.jsonl").read_text(encoding="utf-8").splitlines()[0]
    (labelled / "extra.jsonl").write_text(first + "\n", encoding="utf-8")
    with (labelled / "stubs.jsonl").open("a", encoding="utf-8") as out:
        out.write(first + "\n")
    check_labelled_files(labelled)
