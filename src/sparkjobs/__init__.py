"""sparkjobs: a Spark job server."""

__version__ = "0.1.0"
