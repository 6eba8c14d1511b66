"""The nightly schedule, the inbox sensor and the UI command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.definitions import defs
from pipelines.orchestration import REFRESH_STAGES, inbox_sensor, nightly_refresh_schedule
from pipelines.resources import WarehouseResource

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_nightly_refresh_runs_at_two_in_shanghai(tmp_path) -> None:
    assert nightly_refresh_schedule.cron_schedule == "0 2 * * *"
    assert nightly_refresh_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_refresh_schedule.job_name == "nightly_refresh"
    context = dg.build_schedule_context(
        scheduled_execution_time=datetime(2022, 7, 6, 2, 0, tzinfo=SHANGHAI),
        resources={"warehouse": WarehouseResource(warehouse_dir=str(tmp_path / "warehouse"))})
    requests = list(nightly_refresh_schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1  # nothing published yet: a refresh is due


def test_nightly_refresh_job_covers_every_refresh_stage() -> None:
    assert REFRESH_STAGES == ("ingest", "transform", "quality", "publish")
    job = defs.resolve_job_def("nightly_refresh")
    graph = defs.resolve_asset_graph()
    stage_of = {key: graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert set(stage_of.values()) == {*REFRESH_STAGES, "report"}, "every refresh stage has assets"
    selected = job.asset_layer.selected_asset_keys
    assert selected == {key for key, stage in stage_of.items() if stage in REFRESH_STAGES}
    assert dg.AssetKey(["publish", "analyst_database"]) in selected


def test_refresh_stages_run_after_the_stages_they_read() -> None:
    """`run_refresh` materialises one stage after the other: no asset may read a later stage's."""
    graph = defs.resolve_asset_graph()
    order = {stage: position for position, stage in enumerate(REFRESH_STAGES)}
    backwards = [
        f"{key.to_user_string()} ({graph.get(key).group_name}) reads {parent.to_user_string()} ({graph.get(parent).group_name})"
        for key in graph.get_all_asset_keys() if graph.get(key).group_name in order
        for parent in graph.get(key).parent_keys
        if graph.get(parent).group_name in order and order[graph.get(parent).group_name] > order[graph.get(key).group_name]
    ]
    assert not backwards, backwards
    reads_earlier = {(graph.get(parent).group_name, graph.get(key).group_name)
                     for key in graph.get_all_asset_keys() for parent in graph.get(key).parent_keys
                     if graph.get(parent).group_name in order and graph.get(key).group_name in order
                     and graph.get(parent).group_name != graph.get(key).group_name}
    assert reads_earlier >= set(zip(REFRESH_STAGES, REFRESH_STAGES[1:])), "each stage reads the one before it"


def evaluate(sensor, inbox: Path, cursor: str | None):
    with dg.build_sensor_context(cursor=cursor, resources={"warehouse": WarehouseResource(sources_dir=str(inbox))}) as ctx:
        result = sensor(ctx)
        return result, ctx.cursor


def test_inbox_sensor_triggers_once_per_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "towns").mkdir(parents=True)
    (inbox / "registries").mkdir()
    result, cursor = evaluate(inbox_sensor, inbox, None)
    assert isinstance(result, dg.SkipReason)

    (inbox / "towns" / "统景镇_2022年06月_农村养老服务全覆盖进度表.xlsx").write_bytes(b"first")
    (inbox / "towns" / "~$统景镇_2022年06月.xlsx").write_bytes(b"office lock file")
    result, cursor = evaluate(inbox_sensor, inbox, cursor)
    assert isinstance(result, dg.RunRequest)
    first_key = result.run_key

    result, cursor = evaluate(inbox_sensor, inbox, cursor)
    assert isinstance(result, dg.SkipReason), "the same file must not trigger twice"

    (inbox / "registries" / "特困人员名册_20220701.csv").write_bytes(b"second")
    result, cursor = evaluate(inbox_sensor, inbox, cursor)
    assert isinstance(result, dg.RunRequest) and result.run_key != first_key
    result, _ = evaluate(inbox_sensor, inbox, cursor)
    assert isinstance(result, dg.SkipReason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ui_serves_on_localhost_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "ruralcare"), "ui", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "RURALCARE_SOURCES": str(tmp_path / "inbox"), "RURALCARE_WAREHOUSE": str(tmp_path / "wh")},
        # Ctrl-C as at a terminal: a test run started in the background inherits SIGINT ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        body = b""
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).read()
                break
            except OSError:
                time.sleep(1)
        assert b"dagster_webserver_version" in body
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) is not None
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert not processes_in_group_after(process.pid, grace_seconds=20), "dagster processes survived Ctrl-C"


def processes_in_group_after(group: int, grace_seconds: float) -> str:
    """What is left of a process group once its members had time to exit."""
    deadline = time.monotonic() + grace_seconds
    while True:
        left = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.strip()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)
