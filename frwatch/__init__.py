"""frwatch: a media monitor for news about facial-recognition policy."""

__version__ = "0.1.0"
