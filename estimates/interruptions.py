"""Expected cost of spot interruptions for a checkpointed job (also used by spot fleets).

Model (Daly 2006, "A higher order estimate of the optimum checkpoint interval for restart
dumps", Future Generation Computer Systems 22(3); documented in README):
- Each instance is interrupted as a Poisson process with hazard λ per hour. From a monthly
  interruption frequency p (AWS Spot Advisor reports it in buckets <5%, 5-10%, 10-15%, 15-20%,
  >20%): λ = -ln(1 - p) / 730.
- A synchronous job on n nodes stops when any node is interrupted: its mean time between
  interruptions is M = 1 / (n · λ).
- The job computes τ hours between checkpoints, writing one takes δ hours, and restarting after
  an interruption (replacement launch, loading the checkpoint) takes R hours. Interruptions can
  strike during work, checkpoint writes and restarts alike. For T_s hours of work the expected
  wall-clock time is
      T_w = M · e^(R/M) · (e^((τ + δ)/M) − 1) · T_s / τ
  and the expected number of interruptions T_w / M.
- The interval that minimises T_w is Daly's higher-order optimum
      τ* = √(2δM) · [1 + ⅓·√(δ/2M) + ⅑·(δ/2M)] − δ   for δ < 2M, else τ* = M
  (Young's 1974 first-order √(2δM) is its leading term), capped at the job length.
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
# Beyond this expected overhead (extra wall-clock time over the work) a spot run is taken to
# never finish: restarts dominate and the expected time grows without bound (it overflows).
MAX_PRACTICAL_OVERHEAD = 100.0


def practical(overhead_fraction):
    """Whether a spot run with this expected overhead fraction (a number or an array) ever
    finishes in practice: finite and at most MAX_PRACTICAL_OVERHEAD."""
    return np.isfinite(overhead_fraction) & (overhead_fraction <= MAX_PRACTICAL_OVERHEAD)


def hourly_hazard(monthly_rate: float) -> float:
    if not 0 <= monthly_rate < 1:
        raise ValueError("monthly interruption rate must be in [0, 1)")
    return -math.log1p(-monthly_rate) / HOURS_PER_MONTH


def optimal_checkpoint_interval_hours(write_hours: float, job_hazard: float) -> float:
    """Daly's higher-order optimum τ* (hours of work between checkpoints)."""
    if job_hazard <= 0:
        return math.inf
    mtbf = 1 / job_hazard
    if write_hours >= 2 * mtbf:
        return mtbf
    x = write_hours / (2 * mtbf)
    return math.sqrt(2 * write_hours * mtbf) * (1 + math.sqrt(x) / 3 + x / 9) - write_hours


def expected_wall_hours(
    work_hours: float, interval: float, write_hours: float, restart_hours: float, hazard: float
) -> float:
    """Daly's expected wall-clock time T_w for `work_hours` of work (inf when it overflows)."""
    if work_hours <= 0:
        return 0.0
    if hazard <= 0:
        return work_hours + work_hours / interval * write_hours
    mtbf = 1 / hazard
    if interval <= 0:  # continuous checkpointing (δ = 0): the τ → 0 limit
        return work_hours * math.exp(restart_hours / mtbf)
    try:
        return (
            mtbf
            * math.exp(restart_hours / mtbf)
            * math.expm1((interval + write_hours) / mtbf)
            * work_hours
            / interval
        )
    except OverflowError:
        return math.inf


@dataclass(frozen=True)
class Overhead:
    hours: float  # expected extra wall-clock hours (per node): T_w − T_s
    checkpoint_hours: float
    restart_hours: float
    rework_hours: float  # work lost since the last checkpoint, done again
    expected_interruptions: float
    checkpoint_interval_hours: float
    interval_was_optimised: bool
    job_hazard_per_hour: float


def overhead_for_hazard(
    work_hours: float,
    job_hazard: float,
    checkpoint_write_hours: float,
    restart_hours: float,
    checkpoint_interval_hours: float | None = None,
) -> Overhead:
    optimised = checkpoint_interval_hours is None
    if optimised:
        interval = optimal_checkpoint_interval_hours(checkpoint_write_hours, job_hazard)
        # Never checkpoint less often than once per job.
        interval = min(interval, work_hours) if work_hours > 0 else interval
    else:
        interval = checkpoint_interval_hours
    wall = expected_wall_hours(
        work_hours, interval, checkpoint_write_hours, restart_hours, job_hazard
    )
    checkpoint_hours = work_hours * checkpoint_write_hours / interval if interval > 0 else 0.0
    interruptions = wall * job_hazard
    restarts = interruptions * restart_hours
    extra = wall - work_hours
    return Overhead(
        hours=extra,
        checkpoint_hours=checkpoint_hours,
        restart_hours=restarts,
        rework_hours=max(0.0, extra - checkpoint_hours - restarts),
        expected_interruptions=interruptions,
        checkpoint_interval_hours=interval,
        interval_was_optimised=optimised,
        job_hazard_per_hour=job_hazard,
    )


def expected_overhead(
    work_hours: float,
    nodes: int,
    monthly_rate: float,
    checkpoint_write_hours: float,
    restart_hours: float,
    checkpoint_interval_hours: float | None = None,
) -> Overhead:
    return overhead_for_hazard(
        work_hours,
        nodes * hourly_hazard(monthly_rate),
        checkpoint_write_hours,
        restart_hours,
        checkpoint_interval_hours,
    )


def long_run_overhead_fraction(hazard: float, write_hours: float, restart_hours: float) -> float:
    """Expected overhead / work of an endless job checkpointing at the optimum."""
    if hazard <= 0:
        return 0.0
    interval = optimal_checkpoint_interval_hours(write_hours, hazard)
    return expected_wall_hours(1.0, interval, write_hours, restart_hours, hazard) - 1.0


def overhead_fraction_vector(work_hours, nodes, monthly_rate, write_hours, restart_hours):
    """Vectorised expected overhead / work (T_w / T_s − 1) for arrays of work hours and node
    counts. With a checkpoint write time, at Daly's optimum capped at the job length; with
    `write_hours=None` the job does not checkpoint and an interruption restarts it (CI), so
    T_w = M·e^(R/M)·(e^(T_s/M) − 1)."""
    work = np.asarray(work_hours, dtype=np.float64)
    hazard = np.asarray(nodes, dtype=np.float64) * hourly_hazard(monthly_rate)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mtbf = 1 / hazard
        if write_hours is None:
            wall = mtbf * np.exp(restart_hours / mtbf) * np.expm1(work / mtbf)
            return np.where(hazard > 0, wall / work - 1, 0.0)
        x = write_hours / (2 * mtbf)
        daly = np.sqrt(2 * write_hours * mtbf) * (1 + np.sqrt(x) / 3 + x / 9) - write_hours
        interval = np.minimum(np.where(write_hours >= 2 * mtbf, mtbf, daly), work)
        fraction = (
            mtbf
            * np.exp(restart_hours / mtbf)
            * np.expm1((interval + write_hours) / mtbf)
            / interval
            - 1
        )
        without_interruptions = np.where(interval > 0, write_hours / interval, 0.0)
        return np.where(hazard > 0, fraction, without_interruptions)
