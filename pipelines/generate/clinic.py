"""A synthetic clinic: therapists, clients, and each client's courses, sessions and scores.

Everything is drawn from one `random.Random`, so a seed fixes the whole export. Records
are plain dicts with Python values (text, numbers, booleans, ISO date/timestamp text)
whose keys are the spec's column names; writers turn them into files.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.generate.trajectories import METRICS, new_course_curve, post_score, pre_score
from pipelines.schema import CONTRAINDICATION_CODES

Record = dict[str, Any]

FIRST_NAMES = (
    "Anna", "Boris", "Chen", "Dana", "Eli", "Farida", "Georg", "Hana", "Ivan", "Julia",
    "Kofi", "Lena", "Marek", "Nadia", "Omar", "Petra", "Quentin", "Rosa", "Sven", "Tamara",
    "Uma", "Viktor", "Wen", "Xenia", "Yusuf", "Zofia",
)  # fmt: skip
NOTES = (
    "calf tender", "asked for lighter pressure", "left hamstring tight", "slept badly",
    "marathon on Sunday", "lower back stiff after work", "prefers stroking at the end",
    "knee sore, avoided", "felt much looser afterwards",
)  # fmt: skip

DROPOUT_SHARE = 0.15  # courses abandoned after 2–9 sessions
OVERLONG_SHARE = 0.02  # declared courses that run to 16–17 sessions (a protocol deviation)
DECLARED_COURSE_SHARE = 0.5  # courses carrying a course_id; the others must be inferred
CANCELLED_SHARE, NO_SHOW_SHARE = 0.04, 0.02


_EVERY_KIND_OF_THERAPIST = (0.9, 0.1, 0.2, 0.4)  # valid, unqualified, expiring, no expiry


@dataclass(frozen=True)
class Therapist:
    record: Record
    skill: float
    weight_kg: float


@dataclass
class Client:
    record: Record
    cohort: str
    elderly_or_contraindicated: bool
    late: bool = False  # the intake record arrives only with the second delivery


@dataclass
class Ids:
    """Running counters for the ids of an export."""

    session: int = 0
    course: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def next_session(self) -> str:
        self.session += 1
        return f"S{self.session:08d}"

    def next_course(self) -> str:
        self.course += 1
        return f"CRS-{self.course:07d}"

    def fresh(self, prefix: str) -> str:
        """An id no valid row uses (for faulty rows)."""
        self.extra[prefix] = self.extra.get(prefix, 0) + 1
        return f"{prefix}{self.extra[prefix]:05d}"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {chr(rng.randint(65, 90))}."


def make_therapists(rng: random.Random, n: int, start: dt.date, end: dt.date) -> list[Therapist]:
    out = []
    for i in range(n):
        weight = round(min(120.0, max(45.0, rng.gauss(72, 12))), 1)
        draw = rng.random()
        if i < len(_EVERY_KIND_OF_THERAPIST):  # small clinics still show every case
            draw = _EVERY_KIND_OF_THERAPIST[i]
        if draw < 0.15:  # not qualified
            qualification, until, skill = None, None, rng.gauss(0.75, 0.15)
        else:
            qualification, skill = f"FM-{rng.randint(1000, 9999)}", rng.gauss(1.0, 0.15)
            if draw < 0.30:  # expires during the period: later sessions are unqualified
                until = start + dt.timedelta(days=rng.randint(30, max(31, (end - start).days)))
            elif draw < 0.55:
                until = None  # no expiry
            else:
                until = end + dt.timedelta(days=rng.randint(30, 1000))
        record = {
            "therapist_id": f"T{i + 1:03d}",
            "name": _name(rng),
            "qualification": qualification,
            "qualified_until": until.isoformat() if until else None,
            "body_weight_kg": weight,
        }
        out.append(Therapist(record, skill=max(0.3, skill), weight_kg=weight))
    return out


def make_client(rng: random.Random, number: int, first_visit: dt.date) -> Client:
    sex = rng.choices(("F", "M", "X", None), weights=(53, 42, 2, 3))[0]
    age = rng.choices((rng.randint(18, 40), rng.randint(41, 64), rng.randint(65, 88)),
                      weights=(45, 43, 12))[0]  # fmt: skip
    birth = first_visit - dt.timedelta(days=int(age * 365.25) + rng.randint(0, 364))
    kind = rng.choices(("athlete", "heavy", "other"), weights=(25, 30, 45))[0]
    athlete = True if kind == "athlete" else rng.choice((False, False, None))
    height = rng.gauss(178 if sex == "M" else 166, 7)
    bmi = {"athlete": rng.gauss(23.5, 2), "heavy": rng.gauss(29.5, 3.5)}.get(
        kind, rng.gauss(22.5, 1.8)
    )
    weight = bmi * (height / 100) ** 2
    height_cm = round(height, 0) if rng.random() > 0.06 else None
    weight_kg = round(weight, 1) if rng.random() > 0.06 else None
    codes = []
    if rng.random() < 0.07:
        codes = rng.sample(CONTRAINDICATION_CODES, rng.choice((1, 1, 2)))
        if sex != "F" and "pregnancy" in codes:
            codes.remove("pregnancy")
    intake = first_visit - dt.timedelta(days=rng.randint(0, 14))
    record = {
        "client_id": f"{number:06d}",  # numeric text with leading zeros: must stay text
        "name": _name(rng),
        "birth_date": birth.isoformat(),
        "sex": sex,
        "height_cm": height_cm,
        "weight_kg": weight_kg,
        "athlete": athlete,
        "contraindications": ";".join(codes) or None,
        "intake_date": intake.isoformat() if rng.random() > 0.1 else None,
    }
    if athlete:
        cohort = "athlete"
    elif height_cm and weight_kg and weight_kg / (height_cm / 100) ** 2 >= 25:
        cohort = "overweight"
    else:
        cohort = "other"
    return Client(record, cohort, elderly_or_contraindicated=bool(codes) or age >= 65)


def _timestamp(rng: random.Random, day: dt.date) -> str:
    local = dt.datetime.combine(day, dt.time(rng.randint(8, 19), rng.choice((0, 15, 30, 45))))
    if rng.random() < 0.15:  # some booking systems export an offset
        offset = rng.choice((1, 2))
        shifted = local + dt.timedelta(hours=offset)
        return shifted.isoformat() + f"+{offset:02d}:00"
    return local.isoformat()


def _session_record(
    rng: random.Random, session_id: str, client: Client, therapist: Therapist,
    course_id: str | None, day: dt.date, status: str,
) -> Record:  # fmt: skip
    completed = status == "completed"
    techniques = rng.choices(
        ("rubbing;kneading;stroking", "rubbing;kneading", "rubbing;stroking", None),
        weights=(85, 8, 3, 4),
    )[0]
    duration = round(rng.gauss(60, 6)) if rng.random() > 0.03 else rng.choice((35, 40, 85, 90))
    warmup = rng.randint(5, 10) if rng.random() > 0.03 else rng.choice((2, 3, 12, 15))
    discomfort_share = 0.08 if client.elderly_or_contraindicated else 0.025
    return {
        "session_id": session_id,
        "client_id": client.record["client_id"],
        "therapist_id": therapist.record["therapist_id"],
        "course_id": course_id,
        "started_at": _timestamp(rng, day),
        # blank means completed; exports write it either way
        "status": status if not completed or rng.random() < 0.7 else None,
        "duration_min": duration if completed else None,
        "warmup_min": warmup if completed else None,
        "feet": (rng.choice(("both",) * 12 + ("one",))) if completed else None,
        "direction": rng.choice(("with_flow", "against_flow", "both")) if completed else None,
        "techniques": techniques if completed else None,
        "spine_pressure": (rng.random() < 0.004 or (False if rng.random() < 0.8 else None))
        if completed
        else None,
        "discomfort_reported": (rng.random() < discomfort_share or None)
        if completed and rng.random() < 0.9
        else None,
        "notes": rng.choice(NOTES) if completed and rng.random() < 0.1 else None,
    }


def _score_rows(
    rng: random.Random, session: Record, curve, number: int, with_pre: float, with_post: float
) -> list[Record]:
    rows = []
    if rng.random() >= with_pre:
        return rows
    pre = {m: pre_score(rng, curve, m, number) for m in METRICS}
    post = {m: post_score(rng, curve, m, pre[m]) for m in METRICS}
    for timing, values in (("pre", pre), ("post", post)):
        if timing == "post" and rng.random() >= with_post:
            break
        kept = {m: (v if rng.random() > 0.04 else None) for m, v in values.items()}
        if all(v is None for v in kept.values()):
            continue  # a row with all three scores blank is invalid; clients skip the form
        rows.append({
            "session_id": session["session_id"],
            "client_id": session["client_id"] if rng.random() < 0.5 else None,
            "timing": timing,
            **kept,
            "recorded_at": session["started_at"] if rng.random() < 0.7 else None,
        })  # fmt: skip
    return rows


def client_history(
    rng: random.Random,
    client: Client,
    therapists: list[Therapist],
    first_visit: dt.date,
    end: dt.date,
    ids: Ids,
) -> Iterator[tuple[Record, list[Record], dt.date]]:
    """The client's sessions in time order: (session, its score rows, session date)."""
    course_start = first_visit
    n_courses = 1 + min(3, int(rng.expovariate(1.2)))
    athlete = client.cohort == "athlete"
    for _ in range(n_courses):
        if course_start > end:
            return
        therapist = rng.choice(therapists)
        curve = new_course_curve(
            rng, client.cohort, therapist.skill, therapist.weight_kg,
            client.elderly_or_contraindicated,
        )  # fmt: skip
        declared = rng.random() < DECLARED_COURSE_SHARE
        course_id = ids.next_course() if declared else None
        if rng.random() < DROPOUT_SHARE:
            planned = rng.randint(2, 9)
        elif declared and rng.random() < OVERLONG_SHARE:
            planned = rng.randint(16, 17)
        else:
            planned = rng.choice((10, 10, 10, 11, 12, 12, 13, 14, 15))
        day, done = course_start, 0
        while done < planned and day <= end:
            slot_therapist = therapist if rng.random() > 0.1 else rng.choice(therapists)
            draw = rng.random()
            status = (
                "cancelled" if draw < CANCELLED_SHARE
                else "no_show" if draw < CANCELLED_SHARE + NO_SHOW_SHARE
                else "completed"
            )  # fmt: skip
            session = _session_record(
                rng, ids.next_session(), client, slot_therapist, course_id, day, status
            )
            if status == "completed":
                done += 1
                scores = _score_rows(rng, session, curve, done, with_pre=0.95, with_post=0.8)
            else:  # a few clients fill the form before cancelling: kept, not used
                scores = _score_rows(rng, session, curve, max(done, 1), 0.1, 0.0)
            yield session, scores, day
            day += dt.timedelta(days=rng.randint(2, 4) if athlete else rng.randint(2, 6))
        course_start = day + dt.timedelta(days=rng.randint(35, 200))
