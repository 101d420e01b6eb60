"""Expected cost of spot interruptions for a checkpointed job (also used by spot fleets).

Model (Young's first-order approximation, documented in README):
- Each instance is interrupted as a Poisson process with hazard λ per hour. From a monthly
  interruption frequency p (AWS Spot Advisor reports it in buckets <5%, 5-10%, 10-15%, 15-20%,
  >20%): λ = -ln(1 - p) / 730.
- A synchronous job on n nodes stops when any node is interrupted: λ_job = n · λ.
- Checkpoints every τ hours cost C hours each (writing); an interruption loses on average τ/2
  of work plus a restart time R (replacement launch, loading the checkpoint).
- For W hours of work the expected overhead is W·C/τ + λ_job·W·(τ/2 + R) hours.
- The interval that minimises it is τ* = √(2C / λ_job) (Young, 1974).
"""

import math
from dataclasses import dataclass

import numpy as np

HOURS_PER_MONTH = 730.0

# AWS Spot Advisor's monthly interruption-frequency buckets, and the rate this model uses for
# each (the bucket's midpoint; 25% for the open-ended >20% bucket).
AWS_BUCKETS = {
    "<5%": 0.025,
    "5-10%": 0.075,
    "10-15%": 0.125,
    "15-20%": 0.175,
    ">20%": 0.25,
}
# Without a rate from the user or the organization's history: GPU instance types are often in
# the highest bucket, so the default is deliberately pessimistic.
DEFAULT_BUCKET = ">20%"
DEFAULT_CHECKPOINT_WRITE_MINUTES = 5.0
DEFAULT_RESTART_MINUTES = 10.0


def hourly_hazard(monthly_rate: float) -> float:
    if not 0 <= monthly_rate < 1:
        raise ValueError("monthly interruption rate must be in [0, 1)")
    return -math.log1p(-monthly_rate) / HOURS_PER_MONTH


def optimal_checkpoint_interval_hours(write_hours: float, job_hazard: float) -> float:
    if job_hazard <= 0:
        return math.inf
    return math.sqrt(2 * write_hours / job_hazard)


@dataclass(frozen=True)
class Overhead:
    hours: float  # expected extra wall-clock hours (per node)
    checkpoint_hours: float
    rework_hours: float
    expected_interruptions: float
    checkpoint_interval_hours: float
    interval_was_optimised: bool
    job_hazard_per_hour: float


def expected_overhead(
    work_hours: float,
    nodes: int,
    monthly_rate: float,
    checkpoint_write_hours: float,
    restart_hours: float,
    checkpoint_interval_hours: float | None = None,
) -> Overhead:
    job_hazard = nodes * hourly_hazard(monthly_rate)
    optimised = checkpoint_interval_hours is None
    if optimised:
        interval = optimal_checkpoint_interval_hours(checkpoint_write_hours, job_hazard)
        # Never checkpoint less often than once per job.
        interval = min(interval, work_hours) if work_hours > 0 else interval
    else:
        interval = checkpoint_interval_hours
    checkpoint_hours = work_hours * checkpoint_write_hours / interval if interval > 0 else 0.0
    interruptions = job_hazard * work_hours
    rework_hours = interruptions * (interval / 2 + restart_hours)
    return Overhead(
        hours=checkpoint_hours + rework_hours,
        checkpoint_hours=checkpoint_hours,
        rework_hours=rework_hours,
        expected_interruptions=interruptions,
        checkpoint_interval_hours=interval,
        interval_was_optimised=optimised,
        job_hazard_per_hour=job_hazard,
    )


def overhead_fraction_vector(work_hours, nodes, monthly_rate, write_hours, restart_hours):
    """Vectorised expected overhead / work for arrays of work hours and node counts. With a
    checkpoint write time, at the optimal interval capped at the job length; with
    `write_hours=None` the job does not checkpoint and an interruption restarts it (CI)."""
    work = np.asarray(work_hours, dtype=np.float64)
    hazard = np.asarray(nodes, dtype=np.float64) * hourly_hazard(monthly_rate)
    if write_hours is None:
        return hazard * (work / 2 + restart_hours)
    with np.errstate(divide="ignore", invalid="ignore"):
        interval = np.minimum(np.sqrt(2 * write_hours / hazard), work)
        checkpoint = np.where(interval > 0, write_hours / interval, 0.0)
    rework = hazard * (interval / 2 + restart_hours)
    return checkpoint + rework
