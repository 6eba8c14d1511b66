"""The `ruralcare` command."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from contextlib import redirect_stdout
from pathlib import Path

import click
from rich.console import Console

from pipelines.settings import DBT_PROJECT_DIR, ENGINES, PROJECT_ROOT, Settings

# soft_wrap: never break a path a clerk will copy.
console = Console(stderr=True, soft_wrap=True)

SOURCES_HELP = "Inbox folder holding towns/ and registries/ (default: sources/inbox)."
WAREHOUSE_HELP = "Folder of work.duckdb and ruralcare.duckdb (default: warehouse/)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ruralcare — Yubei rural elderly-care full-coverage (农村养老服务全覆盖) data warehouse."""
    os.environ.setdefault("DO_NOT_TRACK", "1")


def _warehouse(sources: Path | None, warehouse: Path | None, divisions: Path | None, engine: str | None = None,
               plan: Path | None = None):
    from pipelines.resources import WarehouseResource

    return WarehouseResource(
        sources_dir=str(sources.resolve()) if sources else None,
        warehouse_dir=str(warehouse.resolve()) if warehouse else None,
        work_db=str((warehouse / "work.duckdb").resolve()) if warehouse else None,
        divisions_file=str(divisions.resolve()) if divisions else None,
        plan_dir=str(plan.resolve()) if plan else None,
        engine=engine,
    )


def _rejected_in(settings: Settings, refresh_id: str) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        return con.execute(
            "select relative_path, reason_zh from raw.files where status = 'rejected' and refresh_id = ? order by 1",
            [refresh_id],
        ).fetchall()
    finally:
        con.close()


def _refresh(warehouse_resource, strict: bool = False, rebuild: bool = False) -> bool:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from pipelines.progress import listening
    from pipelines.refresh import load_for_this_process, run_refresh

    settings = warehouse_resource.settings()
    console.print(f"[bold]Refreshing[/] inbox {settings.sources_dir} → {settings.work_db}")

    settings.ensure_warehouse_dir()
    log_path = settings.warehouse_dir / "logs" / "refresh-latest.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dbt's own log lines go to a file; the terminal shows the stages and a bar inside each.
    result, failure = None, None
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=console, transient=True)
    current = {}

    def on_stage(stage: str, event: str) -> None:
        if event == "start":
            current["task"] = bar.add_task(stage, total=None)
            current["stage"] = stage
            return
        if "task" in current:
            bar.remove_task(current.pop("task"))
        marks = {"done": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[dim]–[/]"}
        note = " (nothing new since the last publish)" if event == "skipped" else ""
        console.print(f"  {marks[event]} {stage}{note}")

    def on_progress(what: str, done: int, total: int) -> None:
        if "task" in current:
            bar.update(current["task"], description=f"{current['stage']}: {what}", completed=done, total=total)

    with bar, listening(on_progress), log_path.open("w", encoding="utf-8") as log, redirect_stdout(log):
        try:
            result = run_refresh(warehouse_resource, instance=load_for_this_process(), on_stage=on_stage,
                                 rebuild=rebuild)
        except Exception as error:  # noqa: BLE001 - the terminal gets one clear line, the log the traceback
            failure = f"{type(error).__name__}: {error}"
            traceback.print_exc(file=log)
    if result is None:
        console.print(f"[red]Refresh stopped[/]: {failure}")
        console.print(f"  log: {log_path}. The published database was left as it was.")
        return False
    for stage, seconds in result.stage_seconds.items():
        console.print(f"    {stage:<18} {seconds:6.1f} s")
    console.print(f"  refresh {result.refresh_id}; dbt log: {log_path}")
    if result.unchanged:
        console.print("  Nothing new in the inbox: the published database was left as it was.")
    _warn_of_stray_files(settings.sources_dir)
    if not result.success:
        console.print(f"[red]Refresh failed in stage {result.failed_stage}[/]: {result.error}")
        console.print(f"  log: {log_path}. The published database was left as it was; "
                      "fix the cause above and run the refresh again.")
        return False
    rejected = _rejected_in(settings, result.refresh_id)
    if rejected:
        console.print(f"[yellow]{len(rejected)} file(s) rejected[/] (moved to {settings.rejected_dir}, each with a .reason.txt):")
        for path, reason in rejected:
            console.print(f"  {path}: {reason}")
    return not (strict and rejected)


def _warn_of_stray_files(sources_dir: Path) -> None:
    from pipelines.ingest.inbox import stray_files
    from pipelines.status import print_paths

    stray = stray_files(sources_dir)
    if stray:
        print_paths(console, f"[yellow]{len(stray)} file(s) not read[/]: outside {sources_dir / 'towns'} and "
                             f"{sources_dir / 'registries'}; move town workbooks and registry exports there:", stray)


@main.command()
@click.option("--sources", type=click.Path(file_okay=False, exists=True, path_type=Path), help=SOURCES_HELP)
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
@click.option("--divisions", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Division list CSV to load against instead of the built-in Yubei list.")
@click.option("--plan", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Plan folder (plan.csv, plan_projects.csv, plan_targets.csv, e.g. a city's reference/plan/) "
                   "to load instead of the built-in Yubei plan.")
@click.option("--strict", is_flag=True, help="Exit 1 when any file of this refresh was rejected.")
@click.option("--rebuild", is_flag=True,
              help="Build every month again and publish, even when nothing is new (e.g. after upgrading ruralcare).")
@click.option("--engine", type=click.Choice(ENGINES),
              help="Where dbt builds the models (default duckdb, or RURALCARE_ENGINE): spark builds them "
                   "in a local Spark session (`scripts/setup.sh --spark`; docs/engines.md).")
def refresh(sources: Path | None, warehouse: Path | None, divisions: Path | None, plan: Path | None, strict: bool,
            rebuild: bool, engine: str | None) -> None:
    """One refresh: ingest new files, build the models, run the checks, publish."""
    from pipelines.plan_files import plan_dir_problem, plan_division_problem
    from pipelines.publish.inputs import record_if_unchanged
    from pipelines.transform.spark import spark_missing

    settings = Settings.from_env(engine, sources_dir=sources, warehouse_dir=warehouse, divisions_file=divisions,
                                 plan_dir=plan)
    if problem := plan_dir_problem(settings.plan_dir) or plan_division_problem(settings.plan_dir,
                                                                               settings.divisions_file):
        console.print(f"[red]Cannot load the plan:[/] {problem}")
        sys.exit(2)
    if settings.engine == "spark" and (missing := spark_missing()):
        console.print(f"[red]Cannot build on Spark:[/] {missing}")
        sys.exit(2)
    unchanged = None if rebuild else record_if_unchanged(settings)
    if unchanged:
        console.print(f"[bold]Refreshing[/] inbox {settings.sources_dir} → {settings.work_db}")
        console.print(f"  [dim]–[/] nothing new in the inbox and nothing changed since the last publish: "
                      f"the published database was left as it was (refresh {unchanged}).")
        return
    from pipelines.long_lived import loading_long_lived_objects
    from pipelines.refresh_helpers import helpers_running

    # Started before Dagster is imported, on the core the import leaves idle.
    with helpers_running(settings):
        with loading_long_lived_objects():  # Dagster, imported here, lives as long as this process
            resource = _warehouse(sources, warehouse, divisions, engine, plan)
        if not _refresh(resource, strict=strict, rebuild=rebuild):
            sys.exit(1)


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write towns/, registries/ and answer_key/ into.")
@click.option("--seed", type=int, default=20221231, show_default=True, help="Same seed, same bytes.")
@click.option("--months", default="2021-07..2022-12", show_default=True, callback=lambda _c, _p, v: _month_range(v),
              help="Report months, FIRST..LAST (two or more).")
@click.option("--scale", type=click.Choice(["district", "city"]), default="district", show_default=True,
              help="district: the 11 real towns; city: about 800 towns and 3 million people (benchmarks).")
@click.option("--clean", is_flag=True, help="No planted problems and no variations that are findings by definition.")
def generate(out: Path, seed: int, months: str, scale: str, clean: bool) -> None:
    """Write realistic synthetic sources with an answer key."""
    from rich.progress import Progress

    from pipelines.generate import generate as generate_sources

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total or None)

        summary = generate_sources(out, seed=seed, months=months, scale=scale, clean=clean, progress=progress)
    console.print(f"[green]Generated[/] {out}: {summary}")
    console.print(f"  inbox: {out / 'towns'}  {out / 'registries'}   answer key: {out / 'answer_key'}")
    if scale == "city":
        console.print(f"  refresh it with: ruralcare refresh --sources {out} --divisions {summary['divisions']} "
                      f"--plan {summary['plan']}")


def _month_range(value: str) -> str:
    """FIRST..LAST of two or more months (click callback): the generated people's histories
    (a register entry that ends, a pairing that starts) need a month after the first."""
    first, separator, last = value.partition("..")
    start, end = _month(first.strip()), _month(last.strip()) if separator else None
    if end is None or end <= start:
        raise click.BadParameter(f"{value!r} is not a range of two or more months; write it as FIRST..LAST, "
                                 "e.g. 2022-11..2022-12")
    return value


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the demo's sources and warehouse (default: the repo's sources/inbox and warehouse/).")
def demo(out: Path | None) -> None:
    """Generate sample sources, refresh, write the latest month's report; print where everything is."""
    from pipelines.generate import generate as generate_sources

    sources = (out / "sources") if out else None
    warehouse = (out / "warehouse") if out else None
    resource = _warehouse(sources, warehouse, None)
    settings = resource.settings()
    with console.status(f"generating sample sources into {settings.sources_dir}…"):
        generate_sources(settings.sources_dir)
    console.print(f"[green]✓[/] sample sources (18 months, 11 towns) in {settings.sources_dir}")
    if not _refresh(resource):
        sys.exit(1)
    from pipelines.report.data import report_months

    latest = report_months(settings.published_db)[-1]
    console.print(f"\n[bold]Monthly report {latest:%Y年%-m月}[/]")
    _write_report(settings, latest, None)
    _print_where(settings)


def _print_where(settings: Settings) -> None:
    import duckdb

    from pipelines.site import site_dir

    con = duckdb.connect(str(settings.published_db), read_only=True)
    try:
        files = dict(con.sql("select status, count(*) from quality.files group by status").fetchall())
        findings = con.execute("select count(*) from quality.findings").fetchone()[0]
    finally:
        con.close()
    shell = Path(sys.executable).parent / "duckdb"
    console.print(f"\n[bold green]Done.[/] Files: {files}; data-quality findings: {findings}.")
    console.print(f"  inbox            {settings.sources_dir}  (rejected files: {settings.rejected_dir})")
    console.print(f"  analyst database {settings.published_db}  (de-identified, open it read-only)")
    console.print(f"  working database {settings.work_db}  (personal data, pipeline only)")
    console.print("  Query it, for example:")
    console.print(f"    {shell} -readonly {settings.published_db} "
                  "\"select town_name, value, target, status, rank from marts.kpi_town_monthly "
                  "where kpi_id = 'K10_village_coverage' and month = (select max(month) from marts.kpi_town_monthly) "
                  "order by rank\"")
    console.print(f"  progress site    {site_dir(settings) / 'index.html'}  (open it in a browser)")
    console.print("  More queries: docs/analysts.md.   Orchestrator UI: ruralcare ui  (http://127.0.0.1:3000)")


def _month(value: str | None):
    """YYYY-MM → the month's first day (click callback)."""
    from datetime import date

    if value is None:
        return None
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month; write it as YYYY-MM, e.g. 2022-06") from None


@main.command()
@click.option("--month", required=True, callback=lambda _c, _p, v: _month(v), help="Report month YYYY-MM.")
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the files (default: reports/out/YYYY-MM beside the warehouse folder).")
@click.option("--format", "formats", default="html,pdf,xlsx", show_default=True,
              help="Comma-separated: html, pdf, xlsx.")
@click.option("--district", help="The district whose report to write, by code or name (e.g. 509902 or 第2区); "
                                 "needed when the warehouse holds several districts (a city).")
@click.option("--city", is_flag=True, help="Instead of a district's report, the table ranking the districts "
                                           "with the city as a whole (全市各区进展排名).")
def report(month, warehouse: Path | None, out: Path | None, formats: str, district: str | None, city: bool) -> None:
    """Write the monthly progress report (进展通报) of a district, or the city's ranking of its districts,
    from the published database."""
    if city and district:
        raise click.UsageError("--city ranks every district: leave out --district, or leave out --city")
    settings = _warehouse(None, warehouse, None).settings()
    _write_report(settings, month, out, formats, district, city)


@main.command()
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the site (default: reports/site beside the warehouse folder); replaced as a whole.")
def site(warehouse: Path | None, out: Path | None) -> None:
    """Write the progress site (进展网站): static pages in Chinese from the published database."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from pipelines.progress import listening
    from pipelines.site import build_site, site_dir
    from pipelines.status import collect_status

    settings = _warehouse(None, warehouse, None).settings()
    if not settings.published_db.exists():
        console.print(f"[red]No published database at {settings.published_db}[/]: run `ruralcare refresh` first.")
        sys.exit(1)
    out = out or site_dir(settings)
    bar = Progress(TextColumn("writing the site: {task.description}"), BarColumn(), MofNCompleteColumn(),
                   console=console, transient=True)
    task = bar.add_task("reading the published database", total=None)
    with bar, listening(lambda what, done, total: bar.update(task, description=what, completed=done, total=total)):
        try:
            written = build_site(settings.published_db, out, status=collect_status(settings), log=console.print)
        except ValueError as error:
            console.print(f"[red]{error}[/]")
            sys.exit(2)
    console.print(f"[green]Wrote the progress site[/] ({len(written)} pages): open {written[0]}")


@main.command()
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
def status(warehouse: Path | None) -> None:
    """The last refresh, rejected files, towns yet to report and open errors; exit 1 when the last refresh failed."""
    from pipelines.status import collect_status, render_status

    facts = collect_status(_warehouse(None, warehouse, None).settings())
    render_status(facts, Console(soft_wrap=True))
    sys.exit(facts.exit_code)


@main.command()
@click.argument("kpi")
@click.option("--town", required=True, help="Town code or name (e.g. 500112129, 玉峰山镇 or 玉峰山).")
@click.option("--month", required=True, callback=lambda _c, _p, v: _month(v), help="Month YYYY-MM.")
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
def explain(kpi: str, town: str, month, warehouse: Path | None) -> None:
    """Why a town's KPI has its value: numerator/denominator, then the members that fail and pass.

    KPI as id (K10 or K10_village_coverage), number (10) or Chinese name (村级互助养老服务覆盖率)."""
    from pipelines.explain import explain_kpi, render_explanation

    settings = _warehouse(None, warehouse, None).settings()
    if not settings.published_db.exists():
        console.print(f"[red]No published database at {settings.published_db}[/]: run `ruralcare refresh` first.")
        sys.exit(1)
    try:
        explanation = explain_kpi(settings.published_db, kpi, town, month)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        sys.exit(2)
    render_explanation(explanation, Console(soft_wrap=True))


@main.command()
@click.option("--month", required=True, callback=lambda _c, _p, v: _month(v), help="Report month YYYY-MM.")
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the workbooks (default: reports/feedback/YYYY-MM beside the warehouse folder).")
def feedback(month, warehouse: Path | None, out: Path | None) -> None:
    """Write each town's data-quality feedback workbook (数据质量反馈表) for a month."""
    from pipelines.quality.feedback import write_feedback

    settings = _warehouse(None, warehouse, None).settings()
    if not settings.work_db.exists():
        console.print(f"[red]No working database at {settings.work_db}[/]: run `ruralcare refresh` first.")
        sys.exit(1)
    out = out or settings.warehouse_dir.parent / "reports" / "feedback" / f"{month:%Y-%m}"
    with console.status(f"writing the {month:%Y-%m} feedback workbooks…"):
        paths = write_feedback(settings.work_db, month, out)
    console.print(f"[green]Wrote {len(paths)} feedback workbooks[/] to {out}")
    for path in paths:
        console.print(f"  {path.name}")


def _write_report(settings: Settings, month, out: Path | None, formats: str = "html,pdf,xlsx",
                  district: str | None = None, city: bool = False) -> dict:
    from pipelines.report import parse_formats, write_city_summary, write_report
    from pipelines.report.assets import report_dir

    if not settings.published_db.exists():
        console.print(f"[red]No published database at {settings.published_db}[/]: run `ruralcare refresh` first.")
        sys.exit(1)
    try:
        chosen = parse_formats(formats)
        out = out or report_dir(settings, month)
        with console.status(f"writing the {month:%Y-%m} {'city summary' if city else 'report'}…"):
            if city:
                written = write_city_summary(settings.published_db, month, out, chosen)
            else:
                written = write_report(settings.published_db, month, out, chosen, district)
    except ValueError as error:
        console.print(f"[red]{error}[/]")
        sys.exit(2)
    for fmt, path in written.items():
        console.print(f"  {fmt:<4} {path}")
    return written


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write the 11 towns' workbooks into.")
@click.option("--month", callback=lambda _c, _p, v: _month(v), help="Report month YYYY-MM (default: last month).")
@click.option("--from-month", callback=lambda _c, _p, v: _month(v),
              help="Pre-fill from each town's last loaded workbook up to this month YYYY-MM.")
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
def templates(out: Path, month, from_month, warehouse: Path | None) -> None:
    """Blank town workbooks with drop-down lists, one per town."""
    from pipelines.templates import default_month, write_templates

    settings = _warehouse(None, warehouse, None).settings()
    try:
        paths = write_templates(out, month or default_month(), divisions_file=settings.divisions_file,
                                from_month=from_month, work_db=settings.work_db)
    except FileNotFoundError as error:
        console.print(f"[red]{error}[/]")
        sys.exit(1)
    console.print(f"[green]Wrote {len(paths)} town workbooks[/] to {out}")
    for path in paths:
        console.print(f"  {path.name}")


UI_STOP_GRACE_SECONDS = 20


@main.command()
@click.option("--port", default=3000, show_default=True)
def ui(port: int) -> None:
    """Start the Dagster UI and daemon on localhost (Ctrl-C stops both)."""
    from pipelines.refresh import ensure_dagster_home

    home = Path(os.environ.get("DAGSTER_HOME", PROJECT_ROOT / ".dagster_home"))
    ensure_dagster_home(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "DO_NOT_TRACK": "1"}
    dagster = Path(sys.executable).parent / "dagster"
    cmd = [str(dagster), "dev", "-m", "pipelines.definitions", "-h", "127.0.0.1", "-p", str(port)]
    console.print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C to stop)")
    process = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT)
    try:
        process.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached dagster too (same process group): it stops its webserver and daemon, which
        # can take long on a loaded machine; after a grace period it is asked again, then killed.
        try:
            process.wait(timeout=UI_STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=UI_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    console.print("Dagster UI stopped.")


@main.command()
@click.option("--warehouse", type=click.Path(file_okay=False, path_type=Path), help=WAREHOUSE_HELP)
def docs(warehouse: Path | None) -> None:
    """Write docs/kpis.md and docs/rules.md from the catalogues, then generate the dbt
    documentation site (models, columns, lineage) and print where it is."""
    from pipelines.docs_catalogue import write_generated_files
    from pipelines.transform import dbt_cli
    from pipelines.transform.dbt_run import exported_env

    for path in write_generated_files():
        console.print(f"rewritten from the catalogues: {path.relative_to(PROJECT_ROOT)}")
    settings = _warehouse(None, warehouse, None).settings()
    dbt = dbt_cli.executable()
    with exported_env(settings.dbt_env()):
        done = subprocess.run(
            [str(dbt), "docs", "generate", "--profiles-dir", str(DBT_PROJECT_DIR)],
            cwd=DBT_PROJECT_DIR, check=False, capture_output=True, text=True,
        )
    if done.returncode != 0:
        console.print(done.stdout[-3000:])
        sys.exit(done.returncode)
    index = DBT_PROJECT_DIR / "target" / "index.html"
    console.print(f"dbt docs: {index}")
    console.print(f"Serve them with: cd {DBT_PROJECT_DIR} && {dbt} docs serve --profiles-dir . --port 8080")
