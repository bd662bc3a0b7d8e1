"""Maintainers' programs beside the package (never installed): the RESULTS writer, bench, profile."""
