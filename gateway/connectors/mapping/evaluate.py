"""Evaluator of the mapping language over plain Python JSON.

Every evaluation gives a JSON value or :data:`MISSING`, plus *mapping problems* (diagnostics,
never GraphQL errors). Semantics as in docs/connectors.md: key steps map over arrays and the rest
of the path runs on the whole array (left-associative); a subselection maps over arrays and
rebinds ``$``; a missing field is left out; items deep-merge in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import ast
from .methods import METHODS
from .values import MISSING, type_name


@dataclass(slots=True)
class Env:
    """Variables (``$args``, ``$this``, ``$config`` ...) and the problems found so far."""

    variables: Mapping[str, Any]
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        self.problems.append(message)


@dataclass(frozen=True, slots=True)
class Call:
    """What a method sees: its argument expressions, evaluated on demand with ``@`` bound."""

    name: str
    args: tuple[ast.Lit, ...]
    dollar: Any
    env: Env

    def arg(self, index: int, at: Any) -> Any:
        return eval_lit(self.args[index], self.dollar, at, self.env)

    def eval(self, lit: ast.Lit, at: Any) -> Any:
        return eval_lit(lit, self.dollar, at, self.env)

    def problem(self, message: str) -> Any:
        self.env.problem(f"Method ->{self.name}: {message}")
        return MISSING


def apply(
    selection: ast.Selection, data: Any, variables: Mapping[str, Any]
) -> tuple[Any, list[str]]:
    """Apply ``selection`` to ``data`` (``$``); returns (value or MISSING, problems)."""
    env = Env(variables)
    if selection.path is not None:
        value = eval_pathsel(selection.path, data, data, env)
    else:
        assert selection.sub is not None
        value = apply_sub(selection.sub, data, env)
    return value, env.problems


def eval_pathsel(sel: ast.PathSel, dollar: Any, at: Any, env: Env) -> Any:
    value = eval_path(sel.path, dollar, at, env)
    return value if sel.sub is None else apply_sub(sel.sub, value, env)


def eval_path(path: ast.Path, dollar: Any, at: Any, env: Env) -> Any:
    start = path.start
    if isinstance(start, ast.KeyStart):
        value = lookup(dollar, start.key, start.optional, env)
        if start.optional and value is MISSING:
            return MISSING
    elif isinstance(start, ast.LitStart):
        value = eval_lit(start.lit, dollar, at, env)
    elif start.name == "$":
        value = dollar
    elif start.name == "@":
        value = at
    elif start.name in env.variables:
        value = env.variables[start.name]
    else:
        env.problem(f"Variable {start.name} not found")
        return MISSING
    return run_steps(value, path.steps, dollar, env)


def run_steps(value: Any, steps: tuple[ast.Step, ...], dollar: Any, env: Env) -> Any:
    for step in steps:
        if value is MISSING:
            return MISSING
        if isinstance(step, ast.KeyStep):
            value = lookup(value, step.key, step.optional, env)
            if step.optional and value is MISSING:
                return MISSING
        else:
            value = METHODS[step.name](value, Call(step.name, step.args, dollar, env))
    return value


def lookup(value: Any, key: str, optional: bool, env: Env) -> Any:
    """``value.key``: a child, a per-element list on arrays, or MISSING (+ a problem)."""
    if value is MISSING:
        return MISSING
    if isinstance(value, dict):
        if key in value:
            child = value[key]
            return MISSING if optional and child is None else child
        if not optional:
            env.problem(f"Property .{key} not found in object")
        return MISSING
    if isinstance(value, list):
        out = []
        for element in value:
            child = lookup(element, key, optional, env)
            out.append(None if child is MISSING else child)
        return out
    if not (optional and value is None):
        env.problem(f"Property .{key} not found in {type_name(value)}")
    return MISSING


def apply_sub(sub: ast.Sub, value: Any, env: Env) -> Any:
    if value is MISSING:
        return MISSING
    if isinstance(value, list):
        mapped = [apply_sub(sub, element, env) for element in value]
        return [None if item is MISSING else item for item in mapped]
    built = build(sub, value, env)
    if isinstance(value, dict) or built:
        return built
    return value


def build(sub: ast.Sub, dollar: Any, env: Env) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in sub.items:
        if isinstance(item, ast.Field):
            value = lookup(dollar, item.key, item.optional, env)
            if item.sub is not None:
                value = apply_sub(item.sub, value, env)
            put(out, item.key, value, env)
        elif isinstance(item, ast.Alias):
            put(out, item.alias, eval_pathsel(item.value, dollar, dollar, env), env)
        elif isinstance(item, ast.Group):
            put(out, item.alias, build(item.sub, dollar, env), env)
        else:
            merged = eval_pathsel(item.value, dollar, dollar, env)
            if isinstance(merged, dict):
                for key, value in merged.items():
                    put(out, key, value, env)
            elif merged is not MISSING:
                env.problem(f"Cannot merge {type_name(merged)} into an object")
    return out


def put(out: dict[str, Any], key: str, value: Any, env: Env) -> None:
    if value is MISSING:
        return
    out[key] = merge(out[key], value, env) if key in out else value


def merge(old: Any, new: Any, env: Env) -> Any:
    """Deep merge: objects key by key; null with anything is null; else the later one wins."""
    if old is None or new is None:
        return None
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for key, value in new.items():
            put(out, key, value, env)
        return out
    if type_name(old) != type_name(new):
        env.problem(f"Cannot merge {type_name(new)} into {type_name(old)}")
    return new


def eval_lit(lit: ast.Lit, dollar: Any, at: Any, env: Env) -> Any:
    if isinstance(lit, ast.LitValue):
        return lit.value
    if isinstance(lit, ast.LitPath):
        return eval_pathsel(lit.value, dollar, at, env)
    if isinstance(lit, ast.LitObject):
        obj: dict[str, Any] = {}
        for key, prop in lit.props:
            put(obj, key, eval_lit(prop, dollar, at, env), env)
        return obj
    if isinstance(lit, ast.LitArray):
        items = [eval_lit(item, dollar, at, env) for item in lit.items]
        return [None if item is MISSING else item for item in items]
    if isinstance(lit, ast.LitChain):
        return run_steps(eval_lit(lit.base, dollar, at, env), lit.steps, dollar, env)
    value: Any = MISSING
    for item in lit.items:
        value = eval_lit(item, dollar, at, env)
        if value is not MISSING and (lit.op == "?!" or value is not None):
            return value
    return value if lit.op == "??" and value is not MISSING else MISSING
