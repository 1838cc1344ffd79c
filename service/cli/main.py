"""The parser that gathers every command group, and the entry point ``brobygger``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from matcher.errors import MatcherError
from service.cli import accounts, conference, data, matching, privacy, quality, serve
from service.cli.output import CliError, err

# The order of the groups in ``brobygger --help``.
GROUPS = (serve, data, privacy, matching, quality, accounts, conference)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="brobygger",
        description="Brobygger kobler behov i kommuner og bydeler med sosiale entreprenører.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="vis mer logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="KOMMANDO")
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except CliError as exc:
        err(f"Feil: {exc}")
        return 1
    except MatcherError as exc:
        err(f"Feil: {exc}")
        return 1
    except KeyboardInterrupt:
        err("Avbrutt.")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
