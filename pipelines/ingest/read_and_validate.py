"""The steps of one delivery file before its load, as plain functions (the Prefect flow
wraps them): refuse it, or hash it, read it and validate its rows.

Each step takes what it needs and returns a value; none writes to the warehouse (the
store does: pipelines/store/bookkeeping.py and loader.py).
"""

from __future__ import annotations

import datetime as dt

from pipelines.ingest.discover import DeliveryFile
from pipelines.ingest.normalise import normalise
from pipelines.ingest.prepare import FilePlan, combine_reasons, plan_file
from pipelines.ingest.readers import TEXT_FORMATS, FileRejected, RawTable, read_delivery_file
from pipelines.ingest.rejection import display_name
from pipelines.ingest.snapshot import Snapshot, take_snapshot
from pipelines.settings import Settings
from pipelines.validation.rows import ValidationOutcome, suite_parameters, validate_frame


def refused(delivery_file: DeliveryFile) -> FileRejected:
    """The rejection of a file that cannot be loaded, from its name or kind."""
    return FileRejected(f"{display_name(delivery_file.path.name)}: {delivery_file.problem}")


def snapshot(delivery_file: DeliveryFile, max_line_bytes: int) -> Snapshot:
    """The file's bytes and hash, its lines checked for the text formats. The bytes of a
    file that will not be parsed (unknown name or format) are hashed, not kept."""
    parsed = delivery_file.problem is None
    lines = max_line_bytes if parsed and delivery_file.format in TEXT_FORMATS else None
    return take_snapshot(delivery_file.path, keep=parsed, max_line_bytes=lines)


def read_file(delivery_file: DeliveryFile, snap: Snapshot) -> RawTable:
    """Parse the bytes of `snap` (the ones that were hashed)."""
    if delivery_file.problem:
        raise refused(delivery_file)
    if snap.rejection is not None:
        raise snap.rejection
    assert delivery_file.entity and delivery_file.format and snap.data is not None
    return read_delivery_file(
        delivery_file.path, delivery_file.entity, delivery_file.format, data=snap.data
    )


def validate_file(
    raw: RawTable, entity: str, settings: Settings, load_time: dt.datetime
) -> tuple[FilePlan, ValidationOutcome]:
    """Type the rows, run the entity's GX suite, and plan every row's fate."""
    normalised = normalise(raw.frame, entity, settings.clinic_timezone)
    outcome = validate_frame(entity, normalised.typed, suite_parameters(settings, load_time))
    reasons = combine_reasons(normalised.parse_errors, outcome.row_reasons)
    return plan_file(entity, raw.frame, normalised.typed, reasons), outcome
