"""`ruralcare-dbt` runs dbt in the refresh's warm process when there is one, else itself
(pipelines/transform/dbt_cli.py): same output, same exit code, and stopping it stops dbt."""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.processes import process_alive
from pipelines.settings import DBT_PROJECT_DIR
from pipelines.transform import dbt_cli
from pipelines.transform.dbt_run import start_from_project_parse

DEBUG = ["--log-format", "json", "debug", "--config-dir", "--profiles-dir", str(DBT_PROJECT_DIR),
         "--project-dir", str(DBT_PROJECT_DIR)]


def run(args: list[str]) -> tuple[subprocess.CompletedProcess, int]:
    """The command's result and the pid of the process in which dbt ran (from dbt's own log)."""
    process = subprocess.Popen([str(dbt_cli.executable()), *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, "DO_NOT_TRACK": "1"})
    out, _ = process.communicate(timeout=120)
    done = subprocess.CompletedProcess(process.args, process.returncode, out)
    pids = {json.loads(line)["info"]["pid"] for line in out.splitlines() if line.startswith("{")}
    assert len(pids) <= 1, pids
    return done, pids.pop() if pids else process.pid


def test_the_first_command_runs_in_the_warm_process_and_the_next_one_itself():
    with dbt_cli.warm_dbt() as warm_pid:
        first, first_pid = run(DEBUG)
        second, second_pid = run(DEBUG)

    assert first.returncode == second.returncode == 0, first.stdout[-2000:] + second.stdout[-2000:]
    assert first_pid == warm_pid
    assert second_pid != warm_pid
    assert first.stdout.count('"name": "OpenCommand"') == second.stdout.count('"name": "OpenCommand"') == 1


def test_without_a_warm_process_dbt_runs_in_the_command(tmp_path: Path, monkeypatch):
    monkeypatch.setenv(dbt_cli.WARM_SOCKET_ENV, str(tmp_path / "gone.sock"))
    done, _ = run(DEBUG)
    assert done.returncode == 0
    assert '"name": "OpenCommand"' in done.stdout


def test_the_exit_code_of_dbt_is_the_commands():
    wrong = ["parse", "--profiles-dir", "/nonexistent", "--project-dir", str(DBT_PROJECT_DIR)]
    alone, _ = run(wrong)
    with dbt_cli.warm_dbt():
        warm, _ = run(wrong)
    assert alone.returncode == warm.returncode == 2
    assert "'--profiles-dir': Path '/nonexistent' does not exist" in warm.stdout


def test_stopping_the_command_stops_dbt_in_the_warm_process(tmp_path: Path):
    with dbt_cli.warm_dbt() as warm_pid:
        command = subprocess.Popen(
            [str(dbt_cli.executable()), "--log-format", "json", "parse", "--profiles-dir", str(DBT_PROJECT_DIR),
             "--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "DO_NOT_TRACK": "1", "RURALCARE_WORK_DB": str(tmp_path / "work.duckdb")})
        first_line = command.stdout.readline()  # dbt has started, in the warm process
        assert json.loads(first_line)["info"]["pid"] == warm_pid
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=30) == 128 + signal.SIGTERM
        assert not process_alive(warm_pid)
        assert not (tmp_path / "target" / "manifest.json").exists()


def test_an_unused_warm_process_is_stopped_with_its_socket():
    with dbt_cli.warm_dbt() as warm_pid:
        socket_path = Path(os.environ[dbt_cli.WARM_SOCKET_ENV])
    assert not process_alive(warm_pid)
    assert not socket_path.parent.exists()
    assert dbt_cli.WARM_SOCKET_ENV not in os.environ


def test_a_warm_process_whose_refresh_was_killed_ends_and_removes_its_socket():
    """A refresh killed before its build leaves no warm dbt process waiting for a command forever."""
    refresh = subprocess.Popen(
        [sys.executable, "-c", "import os, time\n"
         "from pipelines.transform import dbt_cli\n"
         "with dbt_cli.warm_dbt() as pid:\n"
         "    print(pid, os.environ[dbt_cli.WARM_SOCKET_ENV], flush=True)\n"
         "    time.sleep(120)\n"],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "DO_NOT_TRACK": "1"})
    warm_pid, socket_path = refresh.stdout.readline().split()
    assert process_alive(int(warm_pid)) and Path(socket_path).exists()
    refresh.kill()
    refresh.wait()
    deadline = time.monotonic() + 60
    while process_alive(int(warm_pid)) and time.monotonic() < deadline:  # a zombie counts as ended
        time.sleep(0.2)
    assert not process_alive(int(warm_pid))
    assert not Path(socket_path).parent.exists()


def test_the_socket_folders_of_killed_warm_processes_are_removed(tmp_path: Path):
    """Killed together with its refresh, a warm process leaves its folder: the next refresh removes
    the folders older than a minute whose socket nobody listens on, and no other."""
    old = time.time() - 3600

    def folder(name: str, with_socket_file: bool = True, age: float = old) -> Path:
        made = tmp_path / f"{dbt_cli.SOCKET_FOLDER_PREFIX}{name}"
        made.mkdir()
        if with_socket_file:
            (made / "dbt.sock").touch()
        os.utime(made, (age, age))
        return made

    abandoned, emptied, young = folder("abandoned"), folder("emptied", with_socket_file=False), folder("young", age=time.time())
    live = tmp_path / f"{dbt_cli.SOCKET_FOLDER_PREFIX}live"
    live.mkdir()
    other = folder("other")
    (other / "notes.txt").write_text("not ours to remove")
    link = tmp_path / f"{dbt_cli.SOCKET_FOLDER_PREFIX}link"
    (tmp_path / "elsewhere").mkdir()
    link.symlink_to(tmp_path / "elsewhere")
    os.utime(link, (old, old), follow_symlinks=False)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(live / "dbt.sock"))
        listener.listen(1)
        os.utime(live, (old, old))
        removed = dbt_cli.remove_abandoned_socket_folders(tmp_path)
    assert sorted(removed) == sorted([abandoned, emptied])
    assert young.exists() and live.exists() and other.exists() and link.is_symlink()


def test_a_logger_formats_only_the_events_its_level_writes(monkeypatch):
    """dbt formats an event for every logger, then Python's logging drops it below the logger's
    level; `ruralcare-dbt` drops it before formatting, and writes the same lines."""
    import io

    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import LineFormat, LoggerConfig, _JsonLogger
    from dbt_common.events.types import Note, PrintEvent

    monkeypatch.setattr(EventManager, "add_logger", EventManager.add_logger)  # undone after the test
    dbt_cli._format_only_events_that_are_written()
    formatted = []
    create_line = _JsonLogger.create_line
    monkeypatch.setattr(_JsonLogger, "create_line",
                        lambda logger, msg: formatted.append((logger.name, msg.info.msg)) or create_line(logger, msg))
    info_stream, debug_stream = io.StringIO(), io.StringIO()
    manager = EventManager()
    manager.add_logger(LoggerConfig(name="info", line_format=LineFormat.Json, level=EventLevel.INFO,
                                    output_stream=info_stream))
    manager.add_logger(LoggerConfig(name="debug", line_format=LineFormat.Json, level=EventLevel.DEBUG,
                                    output_stream=debug_stream))

    manager.fire_event(Note(msg="select 1"), level=EventLevel.DEBUG)
    manager.fire_event(Note(msg="1 of 2 OK"), level=EventLevel.INFO)
    manager.fire_event(PrintEvent(msg="a listed model"), level=EventLevel.DEBUG)  # printed whatever its level

    def written(stream: io.StringIO) -> list[str]:
        return [json.loads(line)["info"]["msg"] for line in stream.getvalue().splitlines()]

    assert written(info_stream) == ["1 of 2 OK", "a listed model"]
    assert written(debug_stream) == ["select 1", "1 of 2 OK", "a listed model"]
    assert formatted == [("debug", "select 1"), ("info", "1 of 2 OK"), ("debug", "1 of 2 OK"),
                         ("info", "a listed model"), ("debug", "a listed model")]


def _dbt_env(tmp_path: Path) -> dict[str, str]:
    """The environment dagster-dbt gives dbt (pipelines/transform/dbt_run.py, parse_ahead)."""
    return {**os.environ, "DO_NOT_TRACK": "1", "RURALCARE_WORK_DB": str(tmp_path / "work.duckdb"),
            "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_TARGET_PATH": str(tmp_path / "target")}


def _events(args: list[str], env: dict[str, str]) -> tuple[list[str], set[int]]:
    """The names of dbt's events (debug ones included) and the pids they came from, for a command
    started as dagster-dbt starts it: in the project's folder, with the warm socket in its environment."""
    done = subprocess.run([str(dbt_cli.executable()), "--log-format", "json", "--debug", *args],
                          env={**env, dbt_cli.WARM_SOCKET_ENV: os.environ[dbt_cli.WARM_SOCKET_ENV]},
                          cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    events = [json.loads(line)["info"] for line in done.stdout.splitlines() if line.startswith("{")]
    return [event["name"] for event in events], {event["pid"] for event in events}


def test_the_warm_process_runs_the_command_on_the_project_it_parsed_ahead_unless_its_vars_differ(tmp_path: Path):
    env = _dbt_env(tmp_path)
    ahead = dbt_cli.ParseAhead(args=[], env=env, project_dir=str(DBT_PROJECT_DIR))
    list_seeds = ["ls", "--resource-type", "seed"]
    with dbt_cli.warm_dbt(ahead) as warm_pid:
        parsed_ahead, parsed_ahead_pids = _events(list_seeds, env)
    with dbt_cli.warm_dbt(ahead) as other_warm_pid:
        other_vars, other_vars_pids = _events([*list_seeds, "--vars", '{"unused": 1}'], env)

    assert parsed_ahead_pids == {warm_pid} and other_vars_pids == {other_warm_pid}
    assert "StateCheckVarsHash" not in parsed_ahead  # no parse: the manifest made ahead
    assert "StateCheckVarsHash" in other_vars  # parsed again, with the command's vars
    assert parsed_ahead.count("PrintEvent") == other_vars.count("PrintEvent") == 6  # the six seeds


def test_the_warm_process_waits_at_a_lower_priority_and_runs_the_command_at_the_callers(tmp_path: Path):
    """Getting ready must not slow the files being read; the build itself is not held back
    (lowering a niceness again takes root, as CI and the refresh's service have)."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    with dbt_cli.warm_dbt() as warm_pid:
        assert os.getpriority(os.PRIO_PROCESS, warm_pid) == min(own + dbt_cli.WARM_NICENESS, 19)
        command = subprocess.Popen(
            [str(dbt_cli.executable()), "--log-format", "json", "parse", "--profiles-dir", str(DBT_PROJECT_DIR),
             "--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "DO_NOT_TRACK": "1", "RURALCARE_WORK_DB": str(tmp_path / "work.duckdb")})
        assert json.loads(command.stdout.readline())["info"]["pid"] == warm_pid
        running_at = os.getpriority(os.PRIO_PROCESS, warm_pid)
        command.communicate(timeout=120)
    assert command.returncode == 0
    assert running_at == (own if os.geteuid() == 0 else min(own + dbt_cli.WARM_NICENESS, 19))


def test_a_new_warehouse_starts_from_the_parse_setup_saved(tmp_path: Path):
    """Its first dbt call, with the environment a refresh gives dbt, parses nothing again: setup's
    `dbt parse` (dbt_project/target/) is copied to its target folder (pipelines/transform/dbt_run.py,
    start_from_project_parse). A target folder without it parses every file
    (tests/integration/test_dbt_foundation.py)."""
    env = {name: value for name, value in _dbt_env(tmp_path).items() if name != dbt_cli.WARM_SOCKET_ENV}
    start_from_project_parse(Path(env["DBT_TARGET_PATH"]))
    done = subprocess.run([str(dbt_cli.executable()), "--log-format", "json", "--debug", "parse", "--no-write-json"],
                          env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    events = [json.loads(line)["info"]["name"] for line in done.stdout.splitlines() if line.startswith("{")]
    assert "PartialParsingSkipParsing" in events and "UnableToPartialParse" not in events


def test_a_warehouses_own_saved_parse_is_kept(tmp_path: Path):
    project, target = tmp_path / "project", tmp_path / "target"
    (project / "target").mkdir(parents=True)
    (project / "target" / "partial_parse.msgpack").write_bytes(b"setup's")
    start_from_project_parse(tmp_path / "no project", project_dir=tmp_path / "nowhere")
    target.mkdir()
    (target / "partial_parse.msgpack").write_bytes(b"the warehouse's")
    start_from_project_parse(target, project_dir=project)
    start_from_project_parse(tmp_path / "new", project_dir=project)

    assert not (tmp_path / "no project").exists()  # setup has not parsed: nothing to start from
    assert (target / "partial_parse.msgpack").read_bytes() == b"the warehouse's"
    assert [p.name for p in (tmp_path / "new").iterdir()] == ["partial_parse.msgpack"]
    assert (tmp_path / "new" / "partial_parse.msgpack").read_bytes() == b"setup's"


def test_the_warm_process_closes_the_database_before_the_command_returns(tmp_path: Path):
    """dbt-duckdb closes its database at exit, which the warm process's quick exit skips: a
    build's last writes were left in the write-ahead log (85 MB after a district's full build),
    for the refresh's next connection to replay."""
    env, database = _dbt_env(tmp_path), tmp_path / "work.duckdb"
    with dbt_cli.warm_dbt() as warm_pid:
        _, pids = _events(["seed", "--select", "divisions"], env)
        # as the command returns, whether or not the warm process has ended yet
        assert database.is_file() and not database.with_name("work.duckdb.wal").exists()
    assert pids == {warm_pid}
    con = duckdb.connect(str(database), read_only=True)
    try:
        schema = con.execute("select schema_name from duckdb_tables() where table_name = 'divisions'").fetchone()[0]
        assert con.execute(f"select count(*) from {schema}.divisions").fetchone()[0] > 0
    finally:
        con.close()


def test_the_warm_process_answers_before_it_writes_the_builds_manifest(tmp_path: Path):
    """The build's results are there when the command returns; dbt's manifest of the build comes
    after, written beside the target folder's and renamed into it (a stale half-written one of a
    process stopped meanwhile is removed)."""
    env = _dbt_env(tmp_path)
    target = Path(env["DBT_TARGET_PATH"])
    (target / ".manifests-stopped").mkdir(parents=True)
    (target / ".manifests-stopped" / "manifest.json").write_text("{", encoding="utf-8")
    with dbt_cli.warm_dbt() as warm_pid:
        _, pids = _events(["seed", "--select", "divisions"], env)
        results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
        deadline = time.monotonic() + 60
        while process_alive(warm_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process_alive(warm_pid)  # it ended by itself, not stopped by the block's end

    assert pids == {warm_pid}
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["metadata"]["invocation_id"] == results["metadata"]["invocation_id"]
    assert "seed.ruralcare.divisions" in manifest["nodes"]
    assert (target / "semantic_manifest.json").is_file()
    assert not list(target.glob(".manifests-*"))


def _projects_manifest(tmp_path: Path, monkeypatch):
    """The project's manifest, parsed in this process as the warm process parses it."""
    from dbt.cli.main import dbtRunner

    for name, value in _dbt_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(DBT_PROJECT_DIR)
    start_from_project_parse(tmp_path / "target")
    parsed = dbtRunner().invoke(["parse", "--no-write-json", "--log-level-file", "none", "--quiet"])
    assert parsed.success, parsed.exception
    return parsed.result


def test_a_plain_name_selects_by_lookup_the_nodes_dbts_own_search_selects(tmp_path: Path, monkeypatch):
    """Every selector a refresh's `--exclude` uses (a node's name) and the other plain names a
    node matches by (package, folders) select the same nodes looked up as dbt's search over every
    node selects; wildcards and dotted names are dbt's own."""
    from dbt.graph.selector_methods import QualifiedNameSelectorMethod

    manifest = _projects_manifest(tmp_path, monkeypatch)

    dbts_search = QualifiedNameSelectorMethod.search
    monkeypatch.setattr(QualifiedNameSelectorMethod, "search", dbts_search)  # restored after the test
    monkeypatch.setattr(dbt_cli, "_names_of_manifest", None)
    dbt_cli._look_plain_names_up()
    assert QualifiedNameSelectorMethod.search is not dbts_search

    every_node = set(manifest.nodes) | set(manifest.unit_tests)
    some_nodes = {unique_id for index, unique_id in enumerate(sorted(every_node)) if index % 3}
    fqn_parts = {part for node in manifest.nodes.values() for part in node.fqn}
    selectors = sorted(fqn_parts | {"no_such_node", "kpi_*", "staging.*", "ruralcare.marts", "*members*", ""})
    assert len(selectors) > 250
    method = QualifiedNameSelectorMethod(manifest, None, [])
    for included in (every_node, some_nodes):
        for selector in selectors:
            expected = set(dbts_search(method, included, selector))
            assert set(method.search(included, selector)) == expected, selector
    assert set(method.search(every_node, "stg_ingest__files")) == {"model.ruralcare.stg_ingest__files"}
    assert len(set(method.search(every_node, "staging"))) > 10  # a folder name selects the folder's nodes


def _order_handed_out(queue) -> list[str]:
    """The nodes in the order the queue hands them out to one thread that finishes each at once."""
    order = []
    while not queue.empty():
        unique_id = queue.get().unique_id
        order.append(unique_id)
        queue.mark_done(unique_id)
    return order


def test_the_queue_hands_a_free_thread_the_node_with_the_heaviest_chain_after_it(tmp_path: Path, monkeypatch):
    """dbt's queue orders ready nodes by depth, and its main loop takes them all at once; patched
    (pipelines/transform/dbt_cli.py), the chain to the persons' models goes first and a node is
    taken only when one of the build's threads is free."""
    import threading

    import networkx as nx
    from dbt.graph.queue import GraphQueue
    from dbt.task.runnable import GraphRunnableTask

    manifest = _projects_manifest(tmp_path, monkeypatch)
    graph = nx.DiGraph()
    graph.add_nodes_from(manifest.nodes)
    graph.add_edges_from((parent, child) for parent, children in manifest.child_map.items()
                         for child in children if parent in manifest.nodes and child in manifest.nodes)
    persons_chain = "model.ruralcare.int_registry_rows_monthly"
    incremental = {unique_id for unique_id, node in manifest.nodes.items() if node.config.materialized == "incremental"}
    assert persons_chain in incremental
    # nodes with no model incremental by month after them: light chains, whatever their length
    light = {unique_id for unique_id in graph if not ({unique_id} | nx.descendants(graph, unique_id)) & incremental}

    dbts_order = _order_handed_out(GraphQueue(graph.copy(), manifest, set(graph)))
    assert light & set(dbts_order[:dbts_order.index(persons_chain)])

    for cls, name in ((GraphQueue, "_get_scores"), (GraphQueue, "get"), (GraphRunnableTask, "run_queue")):
        monkeypatch.setattr(cls, name, getattr(cls, name))  # restored after the test
    dbt_cli._run_longest_chains_first()
    patched_order = _order_handed_out(GraphQueue(graph.copy(), manifest, set(graph)))
    assert not light & set(patched_order[:patched_order.index(persons_chain)])
    assert sorted(patched_order) == sorted(dbts_order)
    for position, unique_id in enumerate(patched_order):  # still after every node it depends on
        assert set(graph.predecessors(unique_id)) <= set(patched_order[:position]), unique_id

    queue = GraphQueue(graph.copy(), manifest, set(graph))
    @functools.cache
    def heaviest_chain(unique_id: str) -> float:  # a model incremental by month weighs 1, any other node 0.05
        own = 1.0 if unique_id in incremental else 0.05
        return own + max((heaviest_chain(child) for child in graph.successors(unique_id)), default=0.0)

    assert queue._scores == {unique_id: pytest.approx(-heaviest_chain(unique_id)) for unique_id in graph}
    assert queue._scores[persons_chain] < -3.0  # registry rows → persons → KPI members at least
    queue.ruralcare_threads = 2
    first, second = queue.get().unique_id, queue.get().unique_id
    handed = []
    third = threading.Thread(target=lambda: handed.append(queue.get().unique_id), daemon=True)
    third.start()
    third.join(0.3)
    assert not handed, "a third node was taken while both threads were busy"
    queue.mark_done(first)
    third.join(5)
    assert len(handed) == 1 and handed[0] not in (first, second)


def test_chain_scores_put_a_heavy_chain_before_a_long_light_one():
    import networkx as nx

    graph = nx.DiGraph([("start", "heavy"), ("heavy", "end"),
                        ("start", "light_1"), ("light_1", "light_2"), ("light_2", "light_3")])
    weights = {"heavy": 1.0}
    scores = dbt_cli.chain_scores(graph, lambda node: weights.get(node, 0.05))
    assert scores["heavy"] < scores["light_1"] < scores["light_2"] < scores["light_3"]
    assert scores["start"] < scores["heavy"] < scores["end"]
    assert scores["start"] == pytest.approx(-1.1)
