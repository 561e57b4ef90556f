"""The house's shape (docs/architecture.md), enforced: import-linter's contracts from pyproject.toml, and every
route and command calling exactly one use case of `registry.services`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "registry"
# Service modules that are not use cases: the composition root, who acts, the CLI's own helpers.
NOT_USE_CASES = {"registry.services.context", "registry.services.actor"}


def test_the_import_contracts_are_kept():
    """Layers (faces -> services -> wings -> names -> store -> keys -> config/errors), independent wings, no
    cycles, faces never touching the database. On failure, import-linter's report names each broken import."""
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache",
                           "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def _use_case_names(tree: ast.Module) -> set[str]:
    """Names a module imported from registry.services (functions, or modules whose attributes are called)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("registry.services"):
            if node.module in NOT_USE_CASES:
                continue
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full not in NOT_USE_CASES:
                    names.add(alias.asname or alias.name)
    return names


def _calls(fn: ast.FunctionDef, names: set[str]) -> list[str]:
    found = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            f = node.func
            root = f
            while isinstance(root, ast.Attribute):
                root = root.value
            called = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if isinstance(root, ast.Name) and root.id in names and not called[:1].isupper():  # a value, not a use
                found.append(ast.unparse(f))
            # run(service_fn, ...): the CLI's error renderer calls the use case
            if isinstance(f, ast.Name) and f.id == "run" and node.args:
                arg = node.args[0]
                base = arg
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in names:
                    found.append(ast.unparse(arg))
    return found


def _handlers(path: Path, decorator_attrs: tuple[str, ...]) -> list[tuple[ast.FunctionDef, set[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = _use_case_names(tree)
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in decorator_attrs
                for d in node.decorator_list):
            out.append((node, names | _local_use_cases(node)))
    return out


def _local_use_cases(fn: ast.FunctionDef) -> set[str]:
    return _use_case_names(ast.Module(body=[n for n in ast.walk(fn) if isinstance(n, ast.ImportFrom)],
                                      type_ignores=[]))


def test_every_route_calls_exactly_one_use_case():
    routes = [(p, fn, names) for p in sorted((PACKAGE / "api" / "routes").glob("*.py"))
              for fn, names in _handlers(p, ("get", "post", "put", "patch", "delete"))]
    assert len(routes) >= 20
    wrong = {f"{p.name}:{fn.name}": _calls(fn, names) for p, fn, names in routes
             if len(_calls(fn, names)) != 1 and fn.name != "me"}  # /me only echoes the authenticated caller
    assert wrong == {}


# Commands that need no use case: making the home folder, writing generated data, serving (the registry, or
# a witness of its log on another machine), showing settings.
CLI_WITHOUT_USE_CASE = {"synth", "serve", "init", "config_show", "witness_serve"}
# Commands whose option picks one of two use cases (each path calls one).
CLI_BRANCHES = {"audit.py:events": "a page on the screen, or every event to a file",
                "main.py:evaluate": "against a generated truth, or against the reviewers' decisions"}
# A count for a progress bar's total is not a use case.
PROGRESS_COUNTS = {"live_records"}


def test_every_command_calls_at_most_one_use_case():
    commands = [(p, fn, names) for p in sorted((PACKAGE / "cli").glob("*.py"))
                for fn, names in _handlers(p, ("command", "callback"))]
    assert len(commands) >= 30
    calls = {f"{p.name}:{fn.name}": sorted(set(_calls(fn, names)) - PROGRESS_COUNTS) for p, fn, names in commands}
    too_many = {k: v for k, v in calls.items() if len(v) > 1 and k not in CLI_BRANCHES}
    assert too_many == {}
    assert {k: len(calls[k]) for k in CLI_BRANCHES} == dict.fromkeys(CLI_BRANCHES, 2)
    none = {k for k, v in calls.items() if not v and k.split(":")[1] not in CLI_WITHOUT_USE_CASE}
    assert none <= {"review.py:main"}, none
