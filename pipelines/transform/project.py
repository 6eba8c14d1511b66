"""The dbt project as Dagster sees it. Its manifest is built by setup (`dbt parse`), not here."""

from dagster_dbt import DbtProject

from pipelines.settings import DBT_PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
