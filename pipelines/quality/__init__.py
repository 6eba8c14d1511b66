"""Data quality: cross-source rule checks on quality.findings and the towns' feedback workbooks."""

from pipelines.quality.assets import QUALITY_ASSETS
from pipelines.quality.checks import QUALITY_CHECKS

__all__ = ["QUALITY_ASSETS", "QUALITY_CHECKS"]
