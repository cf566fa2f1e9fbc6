"""Type-checking support for `make typecheck` (mypy plugins); never imported at run time."""
