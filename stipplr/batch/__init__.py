"""Stipple whole folders: :mod:`~stipplr.batch.plan` finds images and plans mirrored outputs
(pure functions), :mod:`~stipplr.batch.run` runs them (threads, Ctrl-C, summary; processes in
:mod:`~stipplr.batch.processes`), :mod:`~stipplr.batch.work` is one job's work and
:mod:`~stipplr.batch.records` what made each output and which run is making it. Outputs
made with the same settings are skipped and every output is written atomically, so a rerun
after a stop resumes where it stopped, and concurrent runs on one folder share the work."""

from stipplr.batch.plan import (
    DEFAULT_OUT,
    Found,
    Job,
    discover,
    parse_shard,
    pending,
    plan,
    remove_stale_temps,
    shard,
    up_to_date,
)
from stipplr.batch.run import Report, Runner, Summary, choose_engine

__all__ = [
    "DEFAULT_OUT",
    "Found",
    "Job",
    "Report",
    "Runner",
    "Summary",
    "choose_engine",
    "discover",
    "parse_shard",
    "pending",
    "plan",
    "remove_stale_temps",
    "shard",
    "up_to_date",
]
