"""The ``brobygger`` command line: a thin face over the service functions, one module per
command group (each registers its subcommands in ``register``), gathered in ``main``.

Messages to the user are Norwegian; errors go to stderr with exit code 1 (2 for usage errors).
"""

from service.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
