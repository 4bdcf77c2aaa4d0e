"""One registry of diagnostic codes (scalinglaws.fit.codes): every code the package emits is
registered and documented in docs/diagnostics.md, an unregistered code cannot be constructed,
and a saved fit carrying a code this version does not know still loads.

The emitted codes are found by reading the source (ast), not by running the fits: every
``Diagnostic(...)`` call (and ``dataclasses.replace(..., code=...)``) anywhere under
src/scalinglaws, with its code argument followed through conditional expressions, local and
module-level assignments and the parameters of helper functions (to the helper's call sites).
A code the scan cannot follow to string literals fails the test too."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path

import pytest

from scalinglaws import ChinchillaLaw, Fit
from scalinglaws.fit.codes import CODES, SEVERITIES, describe, markdown_table
from scalinglaws.fit.result import Diagnostic

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "scalinglaws"
DOCS = ROOT / "docs" / "diagnostics.md"
TABLE_START = "<!-- codes table:"
TABLE_END = "<!-- end of codes table -->"
CODE_STYLE = re.compile(r"^[A-Z][A-Z0-9_]*$")  # diagnostic codes, not "SL-..." warning codes


# ============================================================================ the scanner
def _func_name(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        return f.attr
    return None


class _Module:
    def __init__(self, name: str, tree: ast.Module) -> None:
        self.name = name
        self.tree = tree
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None


class Scan:
    """The codes emitted by ``sources`` (module name -> source text): ``emitted`` maps each
    code to the places ("module:line") that emit it, ``severities`` each code written as a
    literal in its ``Diagnostic(...)`` call to the severities it is given, ``unresolved``
    lists places whose code (or severity) the scan could not follow to literals, and
    ``referenced`` maps codes that code compares diagnostics against (``d.code == "X"``,
    ``X_CODES = {...}``) to their places."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.modules = [_Module(name, ast.parse(text)) for name, text in sources.items()]
        self.emitted: dict[str, set[str]] = {}
        self.severities: dict[str, set[str]] = {}
        self.unresolved: list[str] = []
        self.referenced: dict[str, set[str]] = {}
        for module in self.modules:
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call):
                    self._call(module, node)
                elif isinstance(node, ast.Compare):
                    self._compare(module, node)
                elif isinstance(node, ast.Assign | ast.AnnAssign):
                    self._codes_constant(module, node)

    # ------------------------------------------------------------------ emission
    def _call(self, module: _Module, call: ast.Call) -> None:
        name = _func_name(call)
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        where = f"{module.name}:{call.lineno}"
        if name == "Diagnostic":
            if any(k.arg is None for k in call.keywords) and "code" not in kw and not call.args:
                self.unresolved.append(f"{where} (Diagnostic(**...): pass the code by name)")
                return
            code = call.args[0] if call.args else kw.get("code")
            severity = call.args[1] if len(call.args) > 1 else kw.get("severity")
        elif name == "replace" and "code" in kw:
            code, severity = kw["code"], kw.get("severity")
        else:
            return
        codes = self.resolve(module, code, call) if code is not None else None
        if not codes:
            self.unresolved.append(f"{where} (code {ast.unparse(code) if code else None})")
            return
        for c in codes:
            self.emitted.setdefault(c, set()).add(where)
        if not isinstance(code, ast.Constant) or severity is None:
            return  # through a helper, a code and its severity are not paired call by call
        levels = self.resolve(module, severity, call)
        if levels is None:
            self.unresolved.append(f"{where} (severity {ast.unparse(severity)})")
            return
        self.severities.setdefault(code.value, set()).update(levels)

    def resolve(
        self, module: _Module, expr: ast.AST, at: ast.AST, seen: frozenset = frozenset()
    ) -> set[str] | None:
        """The string literals ``expr`` (in ``module``, at node ``at``) can take; None when
        it cannot be followed."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            a = self.resolve(module, expr.body, at, seen)
            b = self.resolve(module, expr.orelse, at, seen)
            return None if a is None or b is None else a | b
        if not isinstance(expr, ast.Name):
            return None
        key = (module.name, id(at), expr.id)
        if key in seen:
            return None
        seen = seen | {key}
        func = module.enclosing_function(at)
        if func is not None:
            params = [*func.args.posonlyargs, *func.args.args]
            names = [a.arg for a in params]
            kwonly = [a.arg for a in func.args.kwonlyargs]
            if expr.id in names or expr.id in kwonly:
                return self._from_call_sites(func, expr.id, names, seen)
            values = self._assigned(func, expr.id)
            if values:
                return self._union(module, values, at, seen)
        values = self._assigned(module.tree, expr.id, top_level=True)
        if values:
            return self._union(module, values, at, seen)
        return None

    def _union(self, module, values, at, seen) -> set[str] | None:
        out: set[str] = set()
        for v in values:
            r = self.resolve(module, v, at, seen)
            if r is None:
                return None
            out |= r
        return out

    @staticmethod
    def _assigned(scope: ast.AST, name: str, top_level: bool = False) -> list[ast.AST]:
        nodes = scope.body if top_level else list(ast.walk(scope))  # type: ignore[attr-defined]
        out = []
        for node in nodes:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets
            ):
                out.append(node.value)
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == name
                and node.value is not None
            ):
                out.append(node.value)
        return out

    def _from_call_sites(self, func, param: str, names: list[str], seen) -> set[str] | None:
        """A helper's parameter: the union over every call of the helper in every module."""
        out: set[str] = set()
        found = False
        for module in self.modules:
            for node in ast.walk(module.tree):
                if not (isinstance(node, ast.Call) and _func_name(node) == func.name):
                    continue
                found = True
                kw = {k.arg: k.value for k in node.keywords if k.arg}
                if param in kw:
                    arg = kw[param]
                else:
                    offset = 1 if names and names[0] in ("self", "cls") else 0
                    i = names.index(param) - offset if param in names else -1
                    if not 0 <= i < len(node.args):
                        if param in names and _has_default(func, param):
                            continue  # the default applies; checked below
                        return None
                    arg = node.args[i]
                r = self.resolve(module, arg, node, seen)
                if r is None:
                    return None
                out |= r
        default = _default(func, param)
        if default is not None:
            for module in self.modules:
                if func in set(ast.walk(module.tree)):
                    r = self.resolve(module, default, func, seen)
                    if r is None:
                        return None
                    out |= r
        return out if found or out else None

    # ------------------------------------------------------------------ references
    def _compare(self, module: _Module, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        if not any(_is_code_side(o) for o in operands):
            return
        for o in operands:
            if _is_code_side(o):
                continue
            for c in _strings(o):
                self.referenced.setdefault(c, set()).add(f"{module.name}:{node.lineno}")

    def _codes_constant(self, module: _Module, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None or not any(
            isinstance(t, ast.Name) and t.id.endswith("_CODES") for t in targets
        ):
            return
        for c in _strings(node.value):
            self.referenced.setdefault(c, set()).add(f"{module.name}:{node.lineno}")


def _is_code_side(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "code":
        return True
    if isinstance(node, ast.Name) and node.id.endswith("_CODES"):
        return True
    return isinstance(node, ast.Call) and _func_name(node) == "diagnostic_codes"


def _strings(node: ast.AST) -> set[str]:
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and CODE_STYLE.match(n.value)
    }


def _default(func, param: str) -> ast.AST | None:
    args = [*func.args.posonlyargs, *func.args.args]
    defaults = func.args.defaults
    for a, d in zip(args[len(args) - len(defaults) :], defaults, strict=True):
        if a.arg == param:
            return d
    for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=True):
        if a.arg == param:
            return d
    return None


def _has_default(func, param: str) -> bool:
    return _default(func, param) is not None


def _package_sources() -> dict[str, str]:
    return {
        str(p.relative_to(SRC.parent)): p.read_text(encoding="utf-8")
        for p in sorted(SRC.rglob("*.py"))
    }


SCAN = Scan(_package_sources())


# ============================================================================ the tests
def test_the_scan_finds_the_codes_of_every_estimator():
    # A sanity floor: the codes are spread over these modules (a scan that silently found
    # nothing would pass the tests below).
    modules = {w.split(":")[0] for places in SCAN.emitted.values() for w in places}
    for name in ("diagnostics", "powerlaw", "envelope", "isoflop", "auto"):
        assert f"scalinglaws/fit/{name}.py" in modules
    assert len(SCAN.emitted) >= 30


def test_every_code_the_package_emits_is_followed_to_literals():
    assert not SCAN.unresolved, (
        "diagnostic codes the scan cannot follow to string literals (pass the code as a "
        f"literal, or through a helper's parameter): {SCAN.unresolved}"
    )


def test_every_code_the_package_emits_is_registered():
    missing = {c: sorted(w) for c, w in SCAN.emitted.items() if c not in CODES}
    assert not missing, (
        f"codes emitted but not registered in scalinglaws.fit.codes.CODES: {missing}; add "
        "each (and regenerate the table of docs/diagnostics.md)"
    )


def test_every_code_the_package_tests_for_is_registered():
    missing = {c: sorted(w) for c, w in SCAN.referenced.items() if c not in CODES}
    assert not missing, f"code compares diagnostics against unregistered codes: {missing}"


def test_every_registered_code_is_emitted():
    dead = sorted(set(CODES) - set(SCAN.emitted))
    assert not dead, f"registered codes nothing in src/scalinglaws emits any more: {dead}"


def test_emitted_severities_are_the_registered_ones():
    wrong = {
        c: sorted(levels - set(CODES[c].severities))
        for c, levels in SCAN.severities.items()
        if c in CODES and not levels <= set(CODES[c].severities)
    }
    assert not wrong, f"codes emitted with severities their registry entry does not list: {wrong}"


def test_registry_entries_are_complete():
    for name, c in CODES.items():
        assert name == c.code and CODE_STYLE.match(name)
        assert c.severity in c.severities and set(c.severities) <= set(SEVERITIES)
        assert c.meaning.endswith(".") and c.action.endswith(".") and c.where
        assert describe(name).startswith(f"{name} (") and c.action in describe(name)


def test_every_registered_code_is_documented_in_the_docs_table():
    text = DOCS.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text, f"{DOCS} has lost its table markers"
    table = text.split(TABLE_START, 1)[1].split("\n", 1)[1].split(TABLE_END, 1)[0].strip()
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", table, flags=re.MULTILINE))
    assert documented == set(CODES), (
        f"undocumented: {sorted(set(CODES) - documented)}; "
        f"documented but not registered: {sorted(documented - set(CODES))}"
    )
    assert table == markdown_table(), (
        "docs/diagnostics.md's table differs from the registry: replace it with the output of "
        "'python -m scalinglaws.fit.codes'"
    )


def test_the_readme_links_the_table():
    assert "docs/diagnostics.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_an_unregistered_code_cannot_be_constructed():
    with pytest.raises(ValueError, match="unregistered diagnostic code 'NO_SUCH_CODE'"):
        Diagnostic("NO_SUCH_CODE", "warning", "made up")
    with pytest.raises(ValueError, match="unregistered"):
        Diagnostic(code="E_COLLAPSD", severity="warning", message="a typo")
    d = Diagnostic("E_COLLAPSED", "warning", "E went to 0.")
    with pytest.raises(ValueError, match="unregistered"):
        dataclasses.replace(d, code="NO_SUCH_CODE")
    for code, c in CODES.items():
        assert Diagnostic(code, c.severity, "fine").code == code


def test_a_saved_fit_with_an_unknown_code_still_loads(tmp_path):
    law = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    fit = Fit(
        law=law,
        params=law.params,
        approach="3",
        diagnostics=[
            Diagnostic("E_COLLAPSED", "warning", "E went to 0.", {"E": 0.0}),
            Diagnostic("FEW_STARTS", "info", "one start"),
        ],
    )
    record = json.loads(fit.to_json())
    record["diagnostics"][1]["code"] = "RETIRED_CODE"  # as an older version might have saved
    path = tmp_path / "old.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    back = Fit.from_json(path)
    assert back.diagnostic_codes() == ["E_COLLAPSED", "RETIRED_CODE"]
    assert back.diagnostics[0] == fit.diagnostics[0]
    assert back.diagnostics[1].data == {} and back.diagnostics[1].message == "one start"
    assert "RETIRED_CODE" in back.summary()
    assert "not a diagnostic code" in describe("RETIRED_CODE")
    # and it saves and loads again unchanged
    path.write_text(back.to_json(), encoding="utf-8")
    assert Fit.from_json(path).diagnostic_codes() == ["E_COLLAPSED", "RETIRED_CODE"]


def test_a_saved_diagnostic_with_a_bad_field_is_still_refused():
    from scalinglaws.errors import DataError

    law = ChinchillaLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    record = json.loads(Fit(law=law, params=law.params, approach="3").to_json())
    record["diagnostics"] = [{"code": "X", "severity": "info", "message": "m", "bogus": 1}]
    with pytest.raises(DataError, match="diagnostics"):
        Fit.from_json(json.dumps(record))


# ============================================================================ the scanner fails
def test_the_scan_catches_an_unregistered_code_however_it_is_passed():
    source = """
from scalinglaws.fit.result import Diagnostic

PREFIX_CODE = "BOGUS_MODULE_LEVEL"

def direct():
    return [Diagnostic("BOGUS_DIRECT", "warning", "m"),
            Diagnostic(code="BOGUS_KEYWORD", severity="info", message="m")]

def _make(code, message, severity="info"):
    return Diagnostic(code, severity, message)

def helper_user(flag):
    local = "BOGUS_LOCAL" if flag else "BOGUS_OTHER"
    return [_make("BOGUS_VIA_HELPER", "m"), _make(code=local, message="m"),
            _make(PREFIX_CODE, "m", "loud")]

def opaque(code_from_a_table):
    return Diagnostic(code_from_a_table[0], "info", "m")

def compares(d):
    return d.code == "BOGUS_COMPARED"
"""
    scan = Scan({"fake.py": source})
    assert set(scan.emitted) == {
        "BOGUS_DIRECT",
        "BOGUS_KEYWORD",
        "BOGUS_VIA_HELPER",
        "BOGUS_LOCAL",
        "BOGUS_OTHER",
        "BOGUS_MODULE_LEVEL",
    }
    assert scan.severities == {"BOGUS_DIRECT": {"warning"}, "BOGUS_KEYWORD": {"info"}}
    assert len(scan.unresolved) == 1 and "fake.py:19" in scan.unresolved[0]
    assert set(scan.referenced) == {"BOGUS_COMPARED"}
