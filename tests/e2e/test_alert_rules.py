"""The alert rules in deploy/prometheus (and docs/deploy.md) name only series that /metrics serves."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "entrygate-rules.yml"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

# PromQL words that are not series: grouping and set operators; functions are told by the "(" after them.
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
             "gauge": ("",), "summary": ("", "_count", "_sum", "_created"), "info": ("_info",), "untyped": ("",)}


def series_in(expr: str) -> set[str]:
    """The series an expression reads: identifiers outside strings, label matchers, ranges and groupings,
    that are neither keywords nor functions."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for m in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if m.group(0) not in _KEYWORDS and not expr[m.end():].lstrip().startswith("("):
            names.add(m.group(0))
    return names


def served_series(exposition: str) -> set[str]:
    """Every series name /metrics declares (from its TYPE lines), samples or not yet."""
    names = set()
    for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, flags=re.M):
        names |= {family + suffix for suffix in _SUFFIXES[kind]}
    return names


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def test_the_parser_finds_series_and_only_series():
    assert series_in('histogram_quantile(0.99, sum by (le) (rate(a_bucket{x="y"}[5m]))) > 0.025') == {"a_bucket"}
    assert series_in("max by (store_id) (b) == 1 and on (job) c_total offset 5m") == {"b", "c_total"}


def test_the_rules_cover_the_three_alerts_and_every_series_they_name_is_served(ops_platform):
    named = {rule["alert"]: series_in(rule["expr"]) for rule in rules()}
    assert {"EntrygateConnectorBreakerOpen", "EntrygateDecisionLatencyP99OverTarget", "EntrygateAnswering503"} <= set(named)
    assert all(named.values()), named
    served = served_series(ops_platform.http.get("/metrics").text)
    missing = {alert: sorted(series - served) for alert, series in named.items() if series - served}
    assert not missing, f"series the rules name that /metrics does not serve: {missing}"


def test_the_deploy_guide_shows_the_rules_as_committed():
    assert RULES.read_text().strip() in DEPLOY_DOC.read_text()


def test_the_deploy_guide_lists_every_series_metrics_serves(ops_platform):
    families = re.findall(r"^# TYPE (\S+) \S+$", ops_platform.http.get("/metrics").text, flags=re.M)
    listed = DEPLOY_DOC.read_text()
    families = [f for f in families if not f.endswith("_created")]  # a histogram's creation times, as a gauge
    assert families and [f for f in families if f"`{f}`" not in listed] == []
