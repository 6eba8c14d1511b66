"""Dagster asset checks on quality.findings: one per cross-source rule, with its severity.

An error rule fails its check (severity ERROR) when it has any finding; a warning rule
warns; an info rule passes. Every check's metadata counts the rule's findings by town.
"""

from collections import Counter

import dagster as dg

from pipelines.resources import WarehouseResource

FINDINGS_KEY = dg.AssetKey(["quality", "findings"])

# The rules quality.md gives the SQL layer (the ingest layer's rules have their own suites).
SQL_RULES = {
    "DQ03_not_older": "person in the elderly database or a pairing sheet under 60",
    "DQ04_id_two_towns": "the same person in two towns",
    "DQ05_pairing_unknown_person": "pairing row whose ID is in no registry",
    "DQ06_key_person_unpaired": "key-group person with no 一对一 pairing",
    "DQ07_pairing_inactive_person": "pairing row for a person whose registry status is 终止/注销",
    "DQ13_area_below_standard": "built centre or 单独设立 point below its minimum area",
    "DQ15_status_regressed": "facility or point status moved backwards since the previous month",
    "DQ16_subsidy_over_cap": "district top-up over 1,000,000 元 per centre or equipment subsidy over 20,000 元 per point",
    "DQ17_residents_mismatch": "home's 集中供养特困人数 differs from the 特困 register",
    "DQ18_bad_merge_target": "合并设置 into itself, a village without a point, or another town's village",
    "DQ20_merged_home_active": "merged-away home still reporting residents",
    "DQ22_village_not_reported": "village absent from the town's 互助养老点 sheet",
    "DQ23_submission_missing": "no workbook from the town by the 5th of the next month",
    "DQ24_unknown_facility": "facility or payment name matching neither the plan nor earlier workbooks",
    "DQ25_registry_count_mismatch": "pairing sheet's key-group count more than 5% away from the registers",
}


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
    counts: dict[str, Counter] = {rule: Counter() for rule in SQL_RULES}
    for rule_id, code, name, n in rows:
        if rule_id in counts:
            counts[rule_id][f"{code} {name or ''}".strip() if code else "未识别"] += n
    return counts


@dg.multi_asset_check(
    specs=[dg.AssetCheckSpec(name=rule, asset=FINDINGS_KEY, description=f"{rule}: {text}")
           for rule, text in SQL_RULES.items()],
    name="quality_rules",
    can_subset=True,
)
def quality_rule_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    """Count each cross-source rule's findings by town in the working database."""
    with warehouse.connect() as con:
        severities = dict(con.execute("select rule_id, severity from quality.rule_catalogue").fetchall())
        rows = con.execute("""
            select f.rule_id, f.town_code, t.town_name, count(*)
            from quality.findings as f
            left join marts.dim_town as t on t.town_code = f.town_code
            where f.layer = 'sql'
            group by all""").fetchall()
    counts = counts_by_rule_and_town(rows)
    selected = {key.name for key in context.selected_asset_check_keys}
    for rule in SQL_RULES:
        if rule in selected:
            yield check_result(rule, severities[rule], dict(counts[rule]))


QUALITY_CHECKS = [quality_rule_checks]
