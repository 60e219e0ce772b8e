"""The one error type of the data layer (kept apart so that every data module can raise it)."""


class DataError(ValueError):
    """Input data that cannot be used (empty folder, nothing readable, wrong layout, a named
    set that is not present, a file that fails its checksum)."""
