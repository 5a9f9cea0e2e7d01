"""The monitoring stack in the repo matches the code: names, ports, files and the data source."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import REGISTRY

import voicepay.metrics  # noqa: F401  (registers the call metrics)
from voicepay.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
CONSOLE_ONLY = {"voicepay_handoff_waiting", "voicepay_handoff_oldest_wait_seconds"}
_SUFFIXES = ("_total", "_bucket", "_sum", "_count")


def _family(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def _known() -> set[str]:
    return {m.name for m in REGISTRY.collect() if m.name.startswith("voicepay_")} | CONSOLE_ONLY


def _exprs(dashboard: dict[str, Any]) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _rules() -> dict[str, str]:
    groups = yaml.safe_load((DEPLOY / "prometheus-rules.yml").read_text())["groups"]
    return {rule["record"]: rule["expr"] for group in groups for rule in group["rules"]}


def test_every_metric_the_dashboard_and_rules_query_exists() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/voicepay.json").read_text())
    queries = _exprs(dashboard) + list(_rules().values())
    used = {_family(n) for q in queries for n in re.findall(r"\bvoicepay_[a-z0-9_]+", q)}
    assert used and used <= _known(), used - _known()
    recorded = {n for q in _exprs(dashboard) for n in re.findall(r"\bvoicepay:[a-z0-9_:]+", q)}
    assert recorded and recorded <= set(_rules()), recorded - set(_rules())
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_the_dashboard_uses_the_provisioned_data_source() -> None:
    sources = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    uid = sources["datasources"][0]["uid"]
    dashboard = json.loads((DEPLOY / "grafana/dashboards/voicepay.json").read_text())
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {uid}


def test_prometheus_scrapes_the_ports_the_services_listen_on() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    scrape = {
        job["job_name"]: job
        for job in yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["scrape_configs"]
    }
    worker = scrape["voicepay-worker"]["dns_sd_configs"][0]
    assert worker["names"] == ["agent"] and worker["port"] == Settings().metrics.port
    console_command = compose["services"]["console"]["command"]
    port = console_command[console_command.index("--port") + 1]
    assert scrape["voicepay-console"]["static_configs"][0]["targets"] == [f"console:{port}"]
    token_file = scrape["voicepay-console"]["authorization"]["credentials_file"]
    assert token_file.endswith("/" + compose["services"]["prometheus"]["secrets"][0])


def test_compose_mounts_files_that_exist() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    for name in ("prometheus", "grafana"):
        for volume in compose["services"][name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
