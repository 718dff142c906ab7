"""The published calibration targets (scenarios/targets/published.yaml) are complete and consistent.

Every target must say where its figure comes from, what value and band it sets, how model output
maps to it, and which existing scenarios it applies to; every metric it names is either declared
in the catalogue or listed as pending with its meaning.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sim import catalogue

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "scenarios" / "targets" / "published.yaml"
SCENARIO_NAMES = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
LEVELS = {"national", "provincial", "local"}
PROVINCES = {"Anhui", "Liaoning", "Zhejiang", "Beijing"}


def _load() -> dict[str, Any]:
    with TARGETS.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), "the targets file must be a mapping"
    return data


DATA = _load()
TARGET_LIST: list[dict[str, Any]] = DATA.get("targets") or []


def test_file_has_targets_and_definitions() -> None:
    assert TARGET_LIST, "no targets"
    for term in ("residents", "mediated_dispute", "grassroots", "success"):
        assert str(DATA["definitions"].get(term, "")).strip(), f"definition of {term!r} missing"


def test_ids_unique() -> None:
    ids = [t.get("id") for t in TARGET_LIST]
    dups = sorted({i for i in ids if ids.count(i) > 1})
    assert not dups, f"duplicate target ids: {dups}"


@pytest.mark.parametrize("target", TARGET_LIST, ids=lambda t: str(t.get("id")))
def test_target_complete(target: dict[str, Any]) -> None:
    assert isinstance(target.get("id"), str) and target["id"].strip()
    src = target.get("source")
    assert isinstance(src, dict), "source must give quote and address"
    assert str(src.get("quote", "")).strip(), "source.quote missing"
    assert str(src.get("address", "")).strip(), "source.address missing"
    assert target.get("level") in LEVELS, f"level must be one of {sorted(LEVELS)}"
    if target["level"] == "provincial":
        assert target.get("province") in PROVINCES, f"province must be one of {sorted(PROVINCES)}"
    assert str(target.get("definition", "")).strip(), "definition missing"
    assert str(target.get("metric", "")).strip(), "metric missing"
    assert "value" in target or "band" in target, "give value or band"


@pytest.mark.parametrize("target", TARGET_LIST, ids=lambda t: str(t.get("id")))
def test_band_holds_value(target: dict[str, Any]) -> None:
    band = target.get("band")
    if band is None:
        return
    assert len(band) == 2 and band[0] <= band[1], f"band must be [low, high]: {band}"
    assert str(target.get("band_basis", "")).strip(), "a band needs its basis"
    if "value" in target:
        assert band[0] <= target["value"] <= band[1], f"value {target['value']} outside band {band}"


@pytest.mark.parametrize("target", TARGET_LIST, ids=lambda t: str(t.get("id")))
def test_applies_to_existing_scenarios(target: dict[str, Any]) -> None:
    names = target.get("applies_to")
    assert isinstance(names, list) and names, "applies_to must list scenarios"
    missing = sorted(set(names) - SCENARIO_NAMES)
    assert not missing, f"no such scenario: {missing}"


@pytest.mark.parametrize("target", TARGET_LIST, ids=lambda t: str(t.get("id")))
def test_metric_known_or_pending(target: dict[str, Any]) -> None:
    metric = target["metric"]
    pending = DATA.get("metrics_pending") or {}
    assert catalogue.known(metric) or metric in pending, (
        f"{metric!r} is neither in sim/catalogue.py nor under metrics_pending")


def test_pending_metrics_have_meaning() -> None:
    for name, meaning in (DATA.get("metrics_pending") or {}).items():
        assert str(meaning).strip(), f"pending metric {name} has no meaning"


def test_scenario_keys_needed_name_existing_scenarios() -> None:
    for key, spec in (DATA.get("scenario_keys_needed") or {}).items():
        missing = sorted(set(spec.get("needed_by", [])) - SCENARIO_NAMES)
        assert not missing, f"{key}: no such scenario {missing}"
        for name in spec.get("known", {}) or {}:
            assert name in SCENARIO_NAMES, f"{key}: no such scenario {name}"
