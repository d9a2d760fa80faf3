"""Parquet files: every column turned into the text a person would have typed."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.readers.text import (
    blank_to_none,
    normalise_header,
    reject_duplicate_headers,
)
from pipelines.ingest.rejection import FileRejected
from pipelines.schema import ENTITIES, ROW_NUMBER


def read_parquet(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    import pyarrow.parquet as pq  # imported when a Parquet file comes: most loads have none

    table = pq.read_table(pa.BufferReader(pa.py_buffer(data)))
    reject_duplicate_headers([normalise_header(n) for n in table.column_names], name, entity)
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    columns: dict[str, pa.Array] = {}
    for column_name, col in zip(table.column_names, table.columns, strict=True):
        header = normalise_header(column_name)
        if header not in types:
            continue  # ignored (and reported) anyway: its type does not matter
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            item = col.type.value_type
            if types[header] != "list" or pa.types.is_nested(item):
                raise FileRejected(
                    f"{name}: column {header} holds lists; it takes a single value per row"
                    if types[header] != "list"
                    else f"{name}: column {header} holds lists of nested values"
                )
            col = pc.binary_join(pc.cast(col, pa.list_(pa.string())), ";")
        elif pa.types.is_nested(col.type):
            raise FileRejected(
                f"{name}: column {header} holds nested values; "
                "only single values (text, numbers, dates, booleans) can be read"
            )
        elif pa.types.is_boolean(col.type):
            col = pc.if_else(col, "true", "false")
        elif pa.types.is_timestamp(col.type):
            seconds = pc.cast(col, pa.timestamp("s", col.type.tz), safe=False)
            offset = "%z" if col.type.tz else ""
            col = pc.strftime(seconds, format=f"%Y-%m-%dT%H:%M:%S{offset}")
        elif pa.types.is_floating(col.type):
            # 168.0 -> "168", 59.5 -> "59.5": the text a person would have typed; only
            # where the int64 cast is exact (not 1e20, inf or nan)
            col = pc.cast(col, pa.float64())
            is_int = pc.and_(pc.equal(pc.floor(col), col), pc.less(pc.abs(col), 2.0**53))
            small = pc.if_else(is_int, col, 0.0)
            as_int = pc.cast(pc.cast(small, pa.int64()), pa.string())
            col = pc.if_else(is_int, as_int, pc.cast(col, pa.string()))
        elif not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        columns[header] = col
    frame = pa.table(list(columns.values()), names=list(columns)).to_pandas()
    if not columns:  # no known column: keep the row count for the contract check
        frame = pd.DataFrame(index=range(table.num_rows))
    # every column name counts for the contract check (extra ones are reported)
    for column_name in table.column_names:
        if normalise_header(column_name) not in frame:
            frame[normalise_header(column_name)] = None
    frame[ROW_NUMBER] = range(1, table.num_rows + 1)
    return blank_to_none(frame)
