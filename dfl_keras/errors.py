"""The one exception and the one check for an attribute name that is not there.

Models, data sets, the judge, the serving helpers and the export all name
attributes; a name they do not have raises UnknownAttributeError with the
same message, so callers (the CLI included) catch one type.
"""

import difflib


class UnknownAttributeError(ValueError):
    """An attribute name that a model, data set or judge does not have."""


def check_attributes(requested, available, source):
    """Raise UnknownAttributeError for the first name of `requested` not in `available`.

    Args:
        requested: the names asked for (a list, not one string).
        available: the names there are.
        source: what has them, for the message: "the model", "celeb_a", a path.

    Example:

    >>> check_attributes(["Smile"], ["Smiling", "Bald"], "the model")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dfl_keras.errors.UnknownAttributeError: unknown attribute 'Smile' (did you mean 'Smiling'?)...
    """
    if isinstance(requested, str):
        raise TypeError(f"attributes must be a list of names, e.g. [{requested!r}]. "
                        f"Received: attributes={requested!r}")
    available = [str(name) for name in available]
    for name in requested:
        if name not in available:
            close = difflib.get_close_matches(str(name), available, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            known = ", ".join(available) or "none yet"
            raise UnknownAttributeError(f"unknown attribute {name!r}{hint}; {source} has: {known}. "
                                        f"Received: attributes={list(requested)!r}")
