"""Stipple whole folders: :mod:`~stipplr.batch.plan` finds images and plans mirrored outputs
(pure functions), :mod:`~stipplr.batch.run` runs them (threads, processes, Ctrl-C, summary),
and :mod:`~stipplr.batch.work` is one job's work. Outputs newer than their input are skipped
and every output is written atomically, so a rerun after a stop resumes where it stopped."""

from stipplr.batch.plan import (
    DEFAULT_OUT,
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
