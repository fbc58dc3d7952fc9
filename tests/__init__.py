"""The refund-mock test suite (a package, so that `tests.*` is ours and not a dependency's top-level `tests`)."""
