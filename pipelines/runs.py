"""What ties the Dagster runs of one refresh together."""

from __future__ import annotations

from datetime import datetime, timezone

import dagster as dg

REFRESH_ID_TAG = "ruralcare/refresh_id"


def new_refresh_id(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def refresh_id_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> str:
    """The CLI tags every stage run of a refresh with one id; a UI or scheduled run is its own refresh."""
    return context.run.tags.get(REFRESH_ID_TAG) or context.run_id


REFRESH_STARTED_TAG = "ruralcare/refresh_started"


def refresh_started_for(context: dg.OpExecutionContext | dg.AssetExecutionContext) -> datetime:
    tagged = context.run.tags.get(REFRESH_STARTED_TAG)
    if tagged:
        return datetime.fromisoformat(tagged)
    stats = context.instance.get_run_stats(context.run_id)
    return datetime.fromtimestamp(stats.start_time or 0, tz=timezone.utc)
