"""What the CLI shows of what the commands return: plans' notes, load outcomes, listings."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from loaders.common.runner import Outcome, Plan
from loaders.common.summary import stopped_line, summary_lines
from loaders.sources.base import Listing


def show_notes(plan: Plan, out: TextIO | None = None) -> None:
    """What a plan decided before it runs (a backfill's windows per dataset, say)."""
    for note in plan.notes:
        print(note, file=out or sys.stdout)


def show_outcome(outcome: Outcome, out: TextIO | None = None) -> int:
    """The summary (or why nothing was loaded); returns the exit code."""
    out = out or sys.stdout
    if outcome.summary is None:
        print(outcome.plan.nothing_message, file=out)
        return 0
    for line in summary_lines(outcome.summary):
        print(line, file=out)
    if outcome.stopped:
        print(stopped_line(outcome.stopped), file=out)
    return outcome.exit_code


def show_listing(listing: Listing, *, as_json: bool) -> int:
    if as_json:
        json.dump(listing.rows, sys.stdout, indent=2)
        print()
        return 0
    for line in listing.lines:
        print(line)
    return 0
