"""Errors of the matching core. Messages say what is wrong and what to do, in Norwegian."""


class MatcherError(Exception):
    """Base class for errors raised by the matcher."""


class UnknownEmbedderError(MatcherError, ValueError):
    """An embedder key that no backend handles."""


class EmbedderUnavailableError(MatcherError):
    """A backend whose optional dependency or model is missing."""


class IndexMismatchError(MatcherError):
    """An index file that does not belong to the current embedder or is damaged."""
