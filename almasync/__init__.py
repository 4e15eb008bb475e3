"""almasync: an Ex Libris Alma institution's configuration, kept in git."""

__version__ = "0.1.0"
