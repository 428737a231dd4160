"""No import cycles between packages, and every package imports alone.

The units are the packages (bftcheck.model, .checker, .spec, .fuzz) and each
top-level module of bftcheck; an import inside a function counts too, because
it is a dependency all the same. The packages form layers (ARCHITECTURE.md):
a cycle would mean two of them cannot be understood, or loaded, apart."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"model": "bftcheck.model", "checker": "bftcheck.checker", "spec": "bftcheck.spec",
            "fuzz": "bftcheck.fuzz"}


def _unit(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "bftcheck" or len(parts) == 1:
        return None
    return ".".join(parts[:2])


def _sources() -> dict[str, list[Path]]:
    units: dict[str, list[Path]] = {}
    for f in (ROOT / "bftcheck").glob("*.py"):
        units.setdefault(f"bftcheck.{f.stem}", []).append(f)
    for folder, package in PACKAGES.items():
        units[package] = sorted((ROOT / folder).glob("*.py"))
    return units


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    for unit, files in _sources().items():
        graph.add_node(unit)
        for f in files:
            for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                         else [a.name for a in node.names] if isinstance(node, ast.Import)
                         else [])
                for name in names:
                    target = _unit(name)
                    if target is not None and target != unit:
                        graph.add_edge(unit, target)
    return graph


def test_no_import_cycles_between_packages():
    assert list(nx.simple_cycles(import_graph())) == []


def test_the_graph_sees_the_imports_it_should():
    graph = import_graph()  # a graph with no edges would pass the test above vacuously
    assert graph.has_edge("bftcheck.model", "bftcheck.checker")
    assert graph.has_edge("bftcheck.cli", "bftcheck.model")
    assert not graph.has_edge("bftcheck.checker", "bftcheck.model")


@pytest.mark.parametrize("unit", sorted(_sources()))
def test_each_package_imports_alone(unit):
    subprocess.run([sys.executable, "-c", f"import {unit}"], check=True, timeout=120,
                   capture_output=True)
