"""Chinese wording of the report: statuses, KPI kinds, data-quality rules, project groups."""

from __future__ import annotations

import re
from functools import cache

from pipelines.catalogue import rule_name_zh
from pipelines.settings import PROJECT_ROOT

REPORT_CSS = PROJECT_ROOT / "reports" / "templates" / "report.css"

# Status label by KPI kind: a threshold KPI is 达标/未达标, a progress KPI is ahead or behind 序时进度.
STATUS_LABELS = {
    "progress": {"done": "已完成", "green": "正常推进", "yellow": "进度滞后", "red": "严重滞后",
                 "info": "不设目标", "na": "无数据"},
    "threshold": {"done": "已完成", "green": "达标", "yellow": "接近标准", "red": "未达标",
                  "info": "不设目标", "na": "无数据"},
    "info": {"done": "已完成", "green": "达标", "yellow": "接近标准", "red": "未达标",
             "info": "监测", "na": "无数据"},
}

# `.st-green { background: #dcefd8; color: #1e6b2a; ... }`: a traffic light's fill and text colour.
_STATUS_RULE = re.compile(r"\.st-(\w+)\s*\{\s*background:\s*(#[0-9a-fA-F]{6})\s*;\s*color:\s*(#[0-9a-fA-F]{6})")

KIND_LABELS = {"progress": "进度指标", "threshold": "约束性指标", "info": "监测指标"}

SEVERITY_LABELS = {"error": "错误", "warning": "警告", "info": "提示"}

# Named projects in the order a reader expects them: by task, then by town.
PROJECT_GROUPS = (
    ("失能特困人员集中照护中心", None, "失能特困人员集中照护中心"),
    ("镇养老服务中心", None, "镇养老服务中心"),
    ("敬老院", "新建", "新建敬老院"),
    ("敬老院", "改造升级", "改造升级敬老院"),
    ("敬老院", "撤并", "撤并敬老院"),
    ("敬老院", "现有", "镇中心依托的现有敬老院"),
)

BUILD_STATUSES = ("未开工", "在建", "已建成", "已运营", "已撤并")
NOT_REPORTED = "未填报"


@cache
def status_colours() -> dict[str, tuple[str, str]]:
    """(fill, text colour) of each traffic light the report colours, from the `.st-<status>` rules of
    report.css, so the Excel report shows the colours of the HTML and PDF ones."""
    css = REPORT_CSS.read_text(encoding="utf-8")
    return {status: (fill, text) for status, fill, text in _STATUS_RULE.findall(css)}


def status_label(status: str | None, kind: str) -> str:
    if status is None:
        return "—"
    return STATUS_LABELS.get(kind, STATUS_LABELS["info"]).get(status, status)


def rule_label(rule_id: str) -> str:
    """The rule's Chinese name from the rule catalogue, as the feedback workbooks print it."""
    return rule_name_zh(rule_id)


def project_group(facility_type: str, build_mode: str) -> tuple[int, str]:
    """(position, group name) of a plan project; unknown kinds go last under their own name."""
    for position, (ftype, mode, name) in enumerate(PROJECT_GROUPS):
        if ftype == facility_type and (mode is None or mode == build_mode):
            return position, name
    return len(PROJECT_GROUPS), f"{build_mode}{facility_type}"
