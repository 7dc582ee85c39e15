"""Stages whose implementation has not landed yet: they fail loudly instead of pretending to pass."""

from __future__ import annotations

import argparse

TRACKED_IN = {"configure": 5, "deploy": 5, "verify": 5, "smoke": 5, "rebuild": 5, "promote-check": 6,
              "promote": 6, "rollback": 6}


def run(args: argparse.Namespace) -> int:
    """Refuse with a one-line reason naming the issue that builds the stage."""
    print(f"{args.stage} failed: the {args.stage} stage is not built yet (issue #{TRACKED_IN[args.stage]}); "
          f"nothing was changed in {args.env}")
    return 2
