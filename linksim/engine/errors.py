"""Errors that the command line turns into exit codes."""

__all__ = ["LinksimError", "InputError"]


class LinksimError(Exception):
    """Base class; ``exit_code`` is what ``linksim`` returns."""

    exit_code = 1


class InputError(LinksimError):
    """Bad user input (scenario, results file, option): one line, exit code 2."""

    exit_code = 2
