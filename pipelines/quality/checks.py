"""Dagster asset checks on quality.findings: one per cross-source rule of the rule catalogue
(docs/rules.md), with its severity.

An error rule fails its check (severity ERROR) when it has any finding; a warning rule
warns; an info rule passes. Every check's metadata counts the rule's findings by town.
"""

from collections import Counter

import dagster as dg

from pipelines.catalogue import Rule, rules_of_layer
from pipelines.resources import WarehouseResource

FINDINGS_KEY = dg.AssetKey(["quality", "findings"])


def sql_rules() -> list[Rule]:
    """The rules the catalogue gives the SQL layer (the ingest layer's have their own suites)."""
    return rules_of_layer("sql")


def check_result(rule_id: str, severity: str, by_town: dict[str, int]) -> dg.AssetCheckResult:
    """The check's verdict for one rule from its finding counts by town."""
    total = sum(by_town.values())
    return dg.AssetCheckResult(
        asset_key=FINDINGS_KEY,
        check_name=rule_id,
        passed=severity == "info" or total == 0,
        severity=dg.AssetCheckSeverity.ERROR if severity == "error" else dg.AssetCheckSeverity.WARN,
        metadata={
            "severity": severity,
            "findings": total,
            "findings_by_town": dg.MetadataValue.json(dict(sorted(by_town.items()))),
        },
    )


def counts_by_rule_and_town(rows: list[tuple[str, str | None, str | None, int]]) -> dict[str, Counter]:
    """(rule_id, town_code, town_name, n) rows -> rule -> Counter of '<code> <name>' (unknown town: '未识别')."""
    counts: dict[str, Counter] = {rule.rule_id: Counter() for rule in sql_rules()}
    for rule_id, code, name, n in rows:
        if rule_id in counts:
            counts[rule_id][f"{code} {name or ''}".strip() if code else "未识别"] += n
    return counts


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name=rule.rule_id, asset=FINDINGS_KEY,
                             description=f"{rule.rule_id} {rule.name_zh} ({rule.severity}): {rule.description_en}")
           for rule in sql_rules()],
    name="quality_rules",
    can_subset=True,
)
def quality_rule_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Count each cross-source rule's findings by town in the working database."""
    with warehouse.connect() as con:
        rows = con.execute("""
            select f.rule_id, f.town_code, t.town_name, count(*)
            from quality.findings as f
            left join marts.dim_town as t on t.town_code = f.town_code
            where f.layer = 'sql'
            group by all""").fetchall()
    counts = counts_by_rule_and_town(rows)
    selected = {key.name for key in context.selected_asset_check_keys}
    for rule in sql_rules():
        if rule.rule_id in selected:
            yield check_result(rule.rule_id, rule.severity, dict(counts[rule.rule_id]))


QUALITY_CHECKS = [quality_rule_checks]
