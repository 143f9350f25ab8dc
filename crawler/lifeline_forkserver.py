"""Imported only by the extraction forkserver (its preload): see crawler/lifeline.py."""

from crawler.lifeline import die_with_parent

die_with_parent()
