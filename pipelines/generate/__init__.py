"""Synthetic clinic exports: realistic deliveries with documented faults (docs/generator.md)."""

from pipelines.generate.export import (
    DEFAULT_END,
    DELIVERIES,
    FORMATS,
    ExportSummary,
    generate_export,
)

__all__ = ["DEFAULT_END", "DELIVERIES", "FORMATS", "ExportSummary", "generate_export"]
