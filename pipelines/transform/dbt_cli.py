"""`ruralcare-dbt`: dbt's own command line, made to start faster in a refresh.

What running dbt costs that a refresh does not need to pay:

- dbt re-parses the whole project (≈ 2–3 s) when the profile's connection details differ from
  those of its saved parse, and the DuckDB file's path is one of them: every new warehouse (a
  first refresh, a test, a benchmark) paid a full parse although no model reads `target.path`.
  Here the path is left out of that comparison; the database name, schema and settings, which
  the models do see, still count.
- dbt formats every event as a log line for each of its loggers and only then lets Python's
  logging drop the lines below the logger's level: a JSON line with the SQL of every statement,
  formatted and thrown away (≈ 1 s of a district build, on the thread that runs the models).
  Here a logger that writes to a stream or file is offered only the events its level lets
  through; what it writes is unchanged.
- dbt finds the nodes a selector names by testing every node against it: a refresh's build
  leaves out ≈ 150 nodes by name (pipelines/transform/dbt_run.py), ≈ 0.3 s of testing before
  the first node runs. Here a plain name (no wildcard, no dot) is looked up among the names it
  can match instead; the nodes found are the same.
- dbt hands its threads the nodes in the order they became ready: its main loop takes every
  ready node off its priority queue (ordered by graph depth) at once and queues it behind the
  others in its thread pool. A model's tests then wait behind dozens of small nodes that became
  ready before them, and the chain of heavy models they hold back (registry rows → persons →
  published persons → KPI members) starts late. Here a node is taken off the queue only when a
  thread is free, and the queue puts first the node with the heaviest chain of nodes after it, a
  model incremental by month weighing as twenty others. The transform and quality stage of a
  district's full refresh 12.5 → 12.2 s, of its new month 6.2 → 5.8 s (medians of three
  alternating runs).
- Importing dbt takes ≈ 1.1 s, loading the project's manifest ≈ 0.9 s more. A refresh starts a
  *warm* dbt process while it ingests (`warm_dbt()`), one that imports dbt, parses the project
  as the build will see it (`ParseAhead`) and waits on a Unix socket; `ruralcare-dbt`, when it
  finds that socket (RURALCARE_DBT_WARM_SOCKET), hands it its arguments, environment, working
  folder and standard streams, and waits for its exit code. The command runs on the parsed
  manifest when nothing it was parsed with differs (the vars, target and folders, the
  environment variables the project reads, the project's files), else dbt parses again. Without
  a warm process (a run from the Dagster UI, a second dbt call) it runs dbt itself, as before.
  The warm process answers as soon as the build's results (run_results.json) are written and
  the database closed, and writes dbt's manifest of the build after that (≈ 0.3–0.6 s), as the
  refresh goes on. It ends with the refresh that started it when no command came (a refresh
  killed before its build), and a refresh removes the socket folders of warm processes killed
  with theirs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

WARM_SOCKET_ENV = "RURALCARE_DBT_WARM_SOCKET"
SOCKET_FOLDER_PREFIX = "ruralcare-dbt-"  # in the temporary folder, one per warm process
WARM_NICENESS = 10  # while it waits for its command (`warm_dbt`)
# What a parse depends on besides the project's files and the environment variables it reads.
_PARSE_OPTIONS = ("--vars", "--target", "--profile", "--project-dir", "--profiles-dir", "--target-path")
_PARSE_ENV = ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_TARGET", "DBT_PROFILE")
_STANDARD_STREAMS = [0, 1, 2]
_LENGTH = struct.Struct("!I")


def executable() -> Path:
    """The `ruralcare-dbt` installed beside this interpreter (also when the venv is not activated)."""
    return Path(sys.executable).parent / "ruralcare-dbt"


def main() -> None:
    """The `ruralcare-dbt` command: dbt in the warm process when there is one, else in this one."""
    socket_path = os.environ.get(WARM_SOCKET_ENV)
    connection = _connect(socket_path) if socket_path else None
    code = _run_in_warm_process(connection) if connection is not None else None
    sys.exit(_run_dbt() if code is None else code)


def _leave_path_out_of_profile_hash() -> None:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    connection_keys = DuckDBCredentials._connection_keys

    def connection_keys_but_path(credentials: DuckDBCredentials) -> tuple[str, ...]:
        return tuple(key for key in connection_keys(credentials) if key != "path")

    DuckDBCredentials._connection_keys = connection_keys_but_path


def _format_only_events_that_are_written() -> None:
    from dbt_common.events import logger as event_logger
    from dbt_common.events.event_manager import EventManager

    add_logger = EventManager.add_logger

    def add_logger_filtered_by_level(manager: EventManager, config: event_logger.LoggerConfig) -> None:
        if config.output_stream is None and config.output_file_name is None:
            return add_logger(manager, config)  # a logger of the caller's, with its own level
        lowest = event_logger._log_level_map[config.level]
        wanted = config.filter

        def written(msg) -> bool:
            # As _Logger.write_line decides the level (print events as errors), before formatting.
            level = "error" if event_logger._is_print_event(msg) else msg.info.level
            return event_logger._log_level_map[level] >= lowest and wanted(msg)

        return add_logger(manager, dataclasses.replace(config, filter=written))

    EventManager.add_logger = add_logger_filtered_by_level


_WILDCARD_OR_DOT = frozenset("*?[].")


class _EveryNode:
    def __contains__(self, _unique_id: object) -> bool:
        return True


# The last manifest's plain names (`_plain_names`): a warm process builds with one manifest.
_names_of_manifest: tuple[object, dict[str, set[str]] | None] | None = None


def _plain_names(method) -> dict[str, set[str]] | None:
    """Each plain name → the nodes dbt's fqn method selects by it, for the method's manifest (kept
    for the last manifest asked about); None when a node is versioned (dbt's rules differ there).

    A name without wildcard or dot selects a node when it is the node's last fqn part or the
    first dot-separated part of its fqn or of its fqn without the package (`is_selected_node`
    in dbt/graph/selector_methods.py)."""
    global _names_of_manifest
    manifest = method.manifest
    if _names_of_manifest is not None and _names_of_manifest[0] is manifest:
        return _names_of_manifest[1]
    names: dict[str, set[str]] | None = {}
    for unique_id, node in method.non_source_nodes(_EveryNode()):
        if node.is_versioned:
            names = None
            break
        fqn = node.fqn
        for name in {fqn[-1], fqn[0].split(".")[0], *(fqn[1].split(".")[:1] if len(fqn) > 1 else [])}:
            names.setdefault(name, set()).add(unique_id)
    _names_of_manifest = (manifest, names)
    return names


def _look_plain_names_up() -> None:
    from dbt.graph.selector_methods import QualifiedNameSelectorMethod

    search = QualifiedNameSelectorMethod.search

    def search_plain_name_by_lookup(method, included_nodes, selector: str):
        names = None if _WILDCARD_OR_DOT.intersection(selector) else _plain_names(method)
        if names is None:
            yield from search(method, included_nodes, selector)
            return
        yield from (unique_id for unique_id in names.get(selector, ()) if unique_id in included_nodes)

    QualifiedNameSelectorMethod.search = search_plain_name_by_lookup


# A model incremental by month reads and writes every person row of the months it builds (the
# registry rows, the persons, the KPI members: dbt_project/models/intermediate/int_person_monthly.sql
# and its like); any other node of the project is a small table, a view or a test.
INCREMENTAL_WEIGHT, OTHER_WEIGHT = 1.0, 0.05


def chain_scores(graph, weight) -> dict[str, float]:
    """Each node's priority for dbt's queue (lower runs first): minus the weight of the heaviest
    chain of nodes from it to the end of the build, itself included."""
    import networkx as nx

    chain: dict[str, float] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        chain[node] = weight(node) + max((chain[child] for child in graph.successors(node)), default=0.0)
    return {node: -heaviest for node, heaviest in chain.items()}


def _run_longest_chains_first() -> None:
    from dbt.graph.queue import GraphQueue
    from dbt.task.runnable import GraphRunnableTask

    get = GraphQueue.get
    run_queue = GraphRunnableTask.run_queue

    def scores_by_chain(queue, graph) -> dict[str, float]:
        def weight(unique_id: str) -> float:
            node = queue.manifest.nodes.get(unique_id)
            return INCREMENTAL_WEIGHT if node is not None and node.config.materialized == "incremental" else OTHER_WEIGHT

        return chain_scores(graph, weight)

    def get_when_a_thread_is_free(queue, block: bool = True, timeout: float | None = None):
        threads = getattr(queue, "ruralcare_threads", None)
        if threads:
            with queue.lock:  # nodes leave in_progress in mark_done, which notifies some_task_done
                while len(queue.in_progress) >= threads:
                    queue.some_task_done.wait()
        return get(queue, block, timeout)

    def run_queue_knowing_its_threads(task, pool) -> None:
        task.job_queue.ruralcare_threads = pool.max_threads
        return run_queue(task, pool)

    GraphQueue._get_scores = scores_by_chain
    GraphQueue.get = get_when_a_thread_is_free
    GraphRunnableTask.run_queue = run_queue_knowing_its_threads


_patched = False


def _patch_dbt() -> None:
    global _patched
    if not _patched:
        _leave_path_out_of_profile_hash()
        _format_only_events_that_are_written()
        _look_plain_names_up()
        _run_longest_chains_first()
        _patched = True


def _run_dbt(parsed: _Parsed | None = None) -> int:
    _patch_dbt()
    if parsed is not None and parsed.still_holds(sys.argv[1:], os.environ, os.getcwd()):
        from dbt.cli.main import dbtRunner

        done = dbtRunner(manifest=parsed.manifest).invoke(sys.argv[1:])
        # dbt's own exit codes: 1 when a node failed, 2 when dbt itself did (it has logged why)
        return 0 if done.success else (1 if done.exception is None else 2)
    from dbt.cli.main import cli

    try:
        cli()
    except SystemExit as done:  # click ends dbt's command line with the exit code
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


@dataclasses.dataclass(frozen=True)
class ParseAhead:
    """How the refresh will call dbt: the arguments after the command (its vars), the
    environment and the dbt project's folder (the working folder dagster-dbt gives dbt)."""

    args: list[str]
    env: dict[str, str]
    project_dir: str


@dataclasses.dataclass
class _Parsed:
    manifest: object  # dbt's Manifest
    options: dict[str, str | None]
    env: dict[str, str | None]
    cwd: str
    project_files: list[tuple[str, int, int]]

    def still_holds(self, args: list[str], env: Mapping[str, str], cwd: str) -> bool:
        """Whether a command with these arguments, environment and working folder would parse
        to this manifest."""
        read_by_project = getattr(self.manifest, "env_vars", {})
        return (cwd == self.cwd and _parse_options(args) == self.options
                and {name: env.get(name) for name in self.env} == self.env
                and all(env.get(name) == value for name, value in read_by_project.items())
                and _project_files(cwd) == self.project_files)


def _parse_options(args: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = dict.fromkeys(_PARSE_OPTIONS)
    for index, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name in found:
            found[name] = value if equals else (args[index + 1] if index + 1 < len(args) else None)
    return found


def _project_files(project_dir: str) -> list[tuple[str, int, int]]:
    from pipelines.transform.project_files import dbt_project_files

    stats = [(str(path), path.stat()) for path in dbt_project_files(Path(project_dir))]
    return [(path, stat.st_mtime_ns, stat.st_size) for path, stat in stats]


def _parse(ahead: ParseAhead) -> _Parsed | None:
    """The project parsed as the refresh's build will see it; None when dbt could not."""
    os.chdir(ahead.project_dir)
    os.environ.clear()
    os.environ.update(ahead.env)
    files = _project_files(ahead.project_dir)
    from dbt.cli.main import dbtRunner

    # No manifest.json (the build writes it) and no log: dbt's partial-parse file is still kept.
    done = dbtRunner().invoke(["parse", "--no-write-json", "--log-level-file", "none", *ahead.args])
    if not done.success:
        return None
    return _Parsed(done.result, _parse_options(ahead.args), {name: ahead.env.get(name) for name in _PARSE_ENV},
                   os.getcwd(), files)


# --- the caller's side -------------------------------------------------------------------------

def _connect(socket_path: str) -> socket.socket | None:
    """A connection to the warm process, or None when there is none (gone, or already taken)."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(socket_path)
    except OSError:
        connection.close()
        return None
    return connection


def _run_in_warm_process(connection: socket.socket) -> int | None:
    """dbt's exit code; None when the warm process ended before taking the command (dbt did not
    start there)."""
    request = json.dumps({"argv": sys.argv, "env": dict(os.environ), "cwd": os.getcwd(),
                          "niceness": os.getpriority(os.PRIO_PROCESS, 0)}).encode("utf-8")
    try:
        socket.send_fds(connection, [_LENGTH.pack(len(request)) + request], _STANDARD_STREAMS)
        taken = _receive(connection, _LENGTH.size)
    except OSError:
        return None
    if len(taken) < _LENGTH.size:
        return None
    warm_pid = _LENGTH.unpack(taken)[0]
    try:  # a handle on the process itself (Linux ≥ 5.3): its pid may be reused once it has ended
        warm_process = os.pidfd_open(warm_pid)
    except ProcessLookupError:  # dbt has already finished
        warm_process = None

    def stop_warm_process(signum: int, _frame) -> None:
        # Stopping this command stops dbt, and only once dbt's process has ended: its socket
        # closes as the process lets go of its files (the database among them), a moment before
        # the process has finished ending.
        if warm_process is not None:
            with contextlib.suppress(ProcessLookupError):  # dbt had just finished
                signal.pidfd_send_signal(warm_process, signal.SIGKILL)
            select.select([warm_process], [], [])  # readable once the process has ended
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop_warm_process)
    signal.signal(signal.SIGINT, stop_warm_process)
    answer = _receive(connection, _LENGTH.size)
    if len(answer) < _LENGTH.size:
        print("ruralcare-dbt: the warm dbt process ended without an exit code", file=sys.stderr)
        return 1
    return _LENGTH.unpack(answer)[0]


def _receive(connection: socket.socket, size: int) -> bytes:
    """`size` bytes, or fewer when the other side closes first."""
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


# --- the warm process ---------------------------------------------------------------------------

def serve_once(listener_fd: int, starter_pid: int, parse_ahead: bool = False) -> None:
    """Import dbt (and parse the project when asked: a JSON ParseAhead on standard input), then run
    the one dbt command line that connects, as that caller. The socket listens from before this
    process starts: a command that comes early waits for the import and parse. When the process
    that started this one (the refresh) ends before a command comes, as when it is killed, this
    one ends too, its socket and folder removed."""
    listener = socket.socket(fileno=listener_fd)
    socket_path = Path(listener.getsockname())
    starter = _handle_on(starter_pid)
    from pipelines.long_lived import loading_long_lived_objects

    with loading_long_lived_objects():
        _patch_dbt()
        import dbt.cli.main  # noqa: F401 - imported ahead of time is the point

        parsed = _parse(ParseAhead(**json.load(sys.stdin))) if parse_ahead else None

    connection = _accept_while_running(listener, starter)
    # One command only: later ones start dbt themselves. The folder held only the socket.
    socket_path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        socket_path.parent.rmdir()
    if connection is None:
        os._exit(0)
    listener.close()

    message, fds, _, _ = socket.recv_fds(connection, 1 << 16, len(_STANDARD_STREAMS))
    length = _LENGTH.unpack(message[:_LENGTH.size])[0]
    message = message[_LENGTH.size:]
    message += _receive(connection, length - len(message))
    if len(message) < length:
        os._exit(1)  # the caller went away mid-request; it starts dbt itself
    request = json.loads(message.decode("utf-8"))
    for fd, standard in zip(fds, _STANDARD_STREAMS):
        os.dup2(fd, standard)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = request["argv"]
    with contextlib.suppress(OSError):  # back to the caller's priority, where allowed
        os.setpriority(os.PRIO_PROCESS, 0, request["niceness"])
    connection.sendall(_LENGTH.pack(os.getpid()))
    answered = threading.Event()
    threading.Thread(target=_exit_when_caller_gone, args=(connection, answered), daemon=True).start()

    manifests = _ManifestsWrittenLater()
    code = _run_dbt(parsed)
    _close_duckdb()
    sys.stdout.flush()
    sys.stderr.flush()
    answered.set()
    connection.sendall(_LENGTH.pack(code))
    manifests.write()
    os._exit(0)


def _handle_on(pid: int) -> int | None:
    """A pidfd on the process that started this one; None when it has already ended (this
    process was then handed to another parent)."""
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    if os.getppid() != pid:  # the number already belongs to another process
        os.close(handle)
        return None
    return handle


def _accept_while_running(listener: socket.socket, starter: int | None) -> socket.socket | None:
    """The command's connection, or None once the process that started this one has ended (a
    pidfd turns readable when its process ends)."""
    if starter is None:
        return None
    readable, _, _ = select.select([listener, starter], [], [])
    if listener not in readable:
        return None
    return listener.accept()[0]


class _ManifestsWrittenLater:
    """dbt writes the manifest of the build (manifest.json, semantic_manifest.json: ≈ 0.3–0.6 s on a
    district's project) after its last node and before it returns; nothing in the refresh reads
    it, so the warm process writes it after it has answered. Each file is written beside the
    target folder's and renamed over it: a process stopped meanwhile leaves the earlier one."""

    def __init__(self) -> None:
        from dbt.task import runnable

        self._pending: list[tuple[object, str]] = []
        self._write_now = runnable.write_manifest
        runnable.write_manifest = lambda manifest, target_path: self._pending.append((manifest, target_path))

    def write(self) -> None:
        for manifest, target_path in self._pending:
            folder = Path(target_path)
            for stale in folder.glob(".manifests-*"):  # of a process stopped while writing
                shutil.rmtree(stale, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=".manifests-", dir=folder))
            self._write_now(manifest, str(staging))
            for written in staging.iterdir():
                os.replace(written, folder / written.name)
            staging.rmdir()


def _close_duckdb() -> None:
    """Close the database dbt-duckdb keeps open. It closes it at exit (atexit), which `os._exit`
    skips: the process then ended with the database open, leaving its last writes in the
    write-ahead log for the refresh's next connection to replay (85 MB after a district's full
    build), and the lock held a moment longer than the command. One that cannot be closed here
    is left to the process's end, as before."""
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    environment = connections and connections.DuckDBConnectionManager._ENV
    if environment is not None:
        with contextlib.suppress(Exception):
            environment.close()
        connections.DuckDBConnectionManager._ENV = None


def _exit_when_caller_gone(connection: socket.socket, answered: threading.Event) -> None:
    """The caller sends nothing more: its end closing before the answer means it was stopped,
    and dbt stops too."""
    if not connection.recv(1) and not answered.is_set():
        os._exit(1)


@contextmanager
def warm_dbt(parse: ParseAhead | None = None) -> Iterator[int]:
    """A warm dbt process (its pid) for the `ruralcare-dbt` commands started within the block:
    the first takes it. Stopped at the end of the block if no command took it."""
    remove_abandoned_socket_folders(Path(tempfile.gettempdir()))
    folder = Path(tempfile.mkdtemp(prefix=SOCKET_FOLDER_PREFIX))
    socket_path = str(folder / "dbt.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(socket_path)
        listener.listen(1)
        process = subprocess.Popen(
            [sys.executable, "-u", "-m", "pipelines.transform.dbt_cli", str(listener.fileno()), str(os.getpid()),
             *(["--parse-ahead"] if parse is not None else [])],
            pass_fds=[listener.fileno()],
            stdin=subprocess.DEVNULL if parse is None else subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    # Until the build it takes, the warm process only gets ready: the files being read and
    # validated come first on a machine's cores (in the build it runs alone).
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, process.pid, WARM_NICENESS)
    if parse is not None:
        # Through a pipe, not a file: the environment may hold the person-key secret.
        with contextlib.suppress(BrokenPipeError), process.stdin:
            process.stdin.write(json.dumps(dataclasses.asdict(parse)).encode("utf-8"))
    before = os.environ.get(WARM_SOCKET_ENV)
    os.environ[WARM_SOCKET_ENV] = socket_path
    try:
        yield process.pid
    finally:
        if before is None:
            os.environ.pop(WARM_SOCKET_ENV, None)
        else:
            os.environ[WARM_SOCKET_ENV] = before
        if process.poll() is None:
            process.kill()
        process.wait()
        Path(socket_path).unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):  # removed by the process taking its command
            folder.rmdir()


def remove_abandoned_socket_folders(temp_dir: Path, min_age_seconds: float = 60.0) -> list[Path]:
    """Remove the socket folders of warm processes killed together with their refresh (one ending
    on its own removes its folder): this user's `ruralcare-dbt-*` folders older than a minute
    whose socket no process listens on (/proc/net/unix lists the sockets bound). The folders
    removed."""
    listening = _bound_unix_socket_paths()
    removed = []
    for folder in temp_dir.glob(f"{SOCKET_FOLDER_PREFIX}*"):
        try:
            status = folder.lstat()  # a symbolic link is not a folder of ours
            if (not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid()
                    or time.time() - status.st_mtime < min_age_seconds):
                continue
            socket_path = folder / "dbt.sock"
            if str(socket_path) in listening:
                continue
            socket_path.unlink(missing_ok=True)
            folder.rmdir()
            removed.append(folder)
        except OSError:  # another refresh removed it first, or it holds something else
            continue
    return removed


def _bound_unix_socket_paths() -> set[str]:
    try:
        lines = Path("/proc/net/unix").read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    except OSError:
        return set()
    return {fields[7] for line in lines if len(fields := line.split(None, 7)) == 8}


if __name__ == "__main__":
    serve_once(int(sys.argv[1]), int(sys.argv[2]), parse_ahead=sys.argv[3:4] == ["--parse-ahead"])
