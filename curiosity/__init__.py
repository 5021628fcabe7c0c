"""curiosity: a testbed for curiosity-driven exploration on MiniGrid."""

__version__ = "0.1.0"
