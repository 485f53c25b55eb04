"""Hyper-parameter checks shared by the layers of models/."""

__all__ = ["check_positive_ints"]


def check_positive_ints(**values):
    """Raise ``ValueError`` naming the first value that is not a positive integer."""
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
