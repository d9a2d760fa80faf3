"""How a client's scores move over a course: the documented model behind the demo data.

Values live on the spec's 0–10 scales. For pain and muscle_tone lower is better, for
mobility higher is better; `ORIENTATION` turns an improvement into a signed change.

- A course starts from a baseline drawn per cohort (`BASELINE`).
- Over the course the expected value moves by the cohort's `FULL_COURSE_GAIN`, with
  diminishing returns (most of the change in the first five sessions), scaled by the
  therapist's skill (unqualified therapists help less), the therapist's body weight for
  muscle tone in muscular clients (more weight, more pressure), a per-course factor, and
  a smaller effect for contraindicated or elderly clients. A few courses worsen.
- Each session adds noise; a post score is the pre score plus an immediate effect.
- Reported values are rounded to half points, as clients report them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

METRICS = ("pain", "muscle_tone", "mobility")
ORIENTATION = {"pain": -1.0, "muscle_tone": -1.0, "mobility": 1.0}
"""Sign of a better value: improvement means pain and tone go down, mobility up."""

BASELINE: dict[str, dict[str, tuple[float, float]]] = {  # cohort -> metric -> (mean, sd)
    "athlete": {"pain": (4.5, 1.5), "muscle_tone": (7.0, 1.2), "mobility": (6.5, 1.3)},
    "overweight": {"pain": (6.5, 1.5), "muscle_tone": (6.0, 1.3), "mobility": (4.5, 1.4)},
    "other": {"pain": (6.0, 1.6), "muscle_tone": (5.5, 1.4), "mobility": (5.5, 1.4)},
}
FULL_COURSE_GAIN: dict[str, dict[str, float]] = {  # expected improvement after 15 sessions
    "athlete": {"pain": 2.0, "muscle_tone": 3.2, "mobility": 1.5},
    "overweight": {"pain": 2.2, "muscle_tone": 1.8, "mobility": 2.0},
    "other": {"pain": 2.5, "muscle_tone": 2.0, "mobility": 1.8},
}
GAIN_TIME_CONSTANT = 3.5  # sessions; e^(-k/3.5): two thirds of the effect by session 5
SESSION_NOISE_SD = 0.6
WORSENING_SHARE = 0.07  # courses whose scores drift the wrong way
CONTRAINDICATED_FACTOR = 0.8
IMMEDIATE_EFFECT = (0.8, 0.5)  # mean, sd of the pre -> post change in one session


@dataclass(frozen=True)
class CourseCurve:
    """The expected path of one course, per metric."""

    baseline: dict[str, float]
    gain: dict[str, float]
    skill: float

    def expected(self, metric: str, session_number: int) -> float:
        shape = (1 - math.exp(-(session_number - 1) / GAIN_TIME_CONSTANT)) / (
            1 - math.exp(-14 / GAIN_TIME_CONSTANT)
        )
        return self.baseline[metric] + ORIENTATION[metric] * self.gain[metric] * shape


def new_course_curve(
    rng: random.Random,
    cohort: str,
    therapist_skill: float,
    therapist_weight_kg: float,
    contraindicated: bool,
) -> CourseCurve:
    baseline = {m: rng.gauss(*BASELINE[cohort][m]) for m in METRICS}
    course_factor = rng.gauss(1.0, 0.35)
    if rng.random() < WORSENING_SHARE:
        course_factor = -rng.uniform(0.3, 0.8)
    gain = {}
    for m in METRICS:
        g = FULL_COURSE_GAIN[cohort][m] * therapist_skill * course_factor
        if m == "muscle_tone" and cohort in ("athlete", "overweight"):
            g *= 0.85 + 0.3 * (therapist_weight_kg - 50) / 60
        if contraindicated:
            g *= CONTRAINDICATED_FACTOR
        gain[m] = g
    return CourseCurve(baseline=baseline, gain=gain, skill=therapist_skill)


def half_points(value: float) -> float:
    """Clip to the 0–10 scale and round to half points."""
    return round(min(10.0, max(0.0, value)) * 2) / 2


def pre_score(rng: random.Random, curve: CourseCurve, metric: str, session_number: int) -> float:
    return half_points(curve.expected(metric, session_number) + rng.gauss(0, SESSION_NOISE_SD))


def post_score(rng: random.Random, curve: CourseCurve, metric: str, pre: float) -> float:
    effect = rng.gauss(IMMEDIATE_EFFECT[0] * curve.skill, IMMEDIATE_EFFECT[1])
    return half_points(pre + ORIENTATION[metric] * effect)
