"""The exception for data that cannot be read as asked, and how its messages list files."""


class DataError(ValueError):
    """A data set on disk is incomplete or malformed; the message says how to fix it."""


def first_few(names, shown=5):
    """The first few of many file names, so a message stays one readable line."""
    names = list(names)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(map(str, names[:shown])) + more
