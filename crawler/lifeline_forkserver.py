"""Imported only by the extraction forkserver (its preload): the lifeline (see
crawler/lifeline.py), and trafilatura's first-use loading done once for every worker
(`crawler.extract.warm_up`)."""

from crawler.extract import warm_up
from crawler.lifeline import die_with_parent

die_with_parent()
warm_up()
