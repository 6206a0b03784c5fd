"""The ``->methods`` of the mapping language: one function per documented method.

v0.1/v0.2 (echo, map, match, first, last, slice, size, entries, jsonStringify, joinNotNull) and the
v0.3 ones (filter, find, get, eq ... parseInt). Like the reference router, methods are gated by
this gateway's release, not by the subgraph's linked version. A wrong input type gives MISSING and
a mapping problem. Strings are counted in characters (the reference counts UTF-8 bytes; see
docs/connectors.md, "Open questions").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import ast
from .values import MISSING, compact_json, is_number, json_equal, type_name

if TYPE_CHECKING:
    from .evaluate import Call

Method = Callable[[Any, "Call"], Any]


def _arity(call: Call, low: int, high: int) -> bool:
    return low <= len(call.args) <= high


def echo(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    return call.arg(0, value)


def map_(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    items = value if isinstance(value, list) else [value]
    mapped = [call.arg(0, item) for item in items]
    return [None if item is MISSING else item for item in mapped]


def match(value: Any, call: Call) -> Any:
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.LitArray):
            if len(arg.items) != 2:
                continue  # not a pair: skipped, as the reference does
            candidate = call.eval(arg.items[0], value)
            if candidate is not MISSING and json_equal(candidate, value):
                return call.eval(arg.items[1], value)
            continue
        pair = call.arg(index, value)
        if isinstance(pair, list) and len(pair) == 2 and json_equal(pair[0], value):
            return pair[1]
    return call.problem(f"no pattern matched {compact_json(value)}")


def _end(last: bool) -> Method:
    def method(value: Any, call: Call) -> Any:
        if call.args:
            return call.problem("takes no arguments")
        if isinstance(value, list | str):
            if not value:
                return MISSING
            return value[-1] if last else value[0]
        call.problem(f"expected an array or a string, found {type_name(value)}")
        return value

    return method


def slice_(value: Any, call: Call) -> Any:
    if not _arity(call, 0, 2):
        return call.problem("takes at most two arguments")
    if not isinstance(value, list | str):
        return call.problem(f"expected an array or a string, found {type_name(value)}")
    bounds = [call.arg(i, value) for i in range(len(call.args))]
    if any(not isinstance(b, int) or isinstance(b, bool) for b in bounds):
        return call.problem("expects integer bounds")
    size = len(value)
    start = min(max(bounds[0], 0), size) if bounds else 0
    end = min(max(bounds[1], 0), size) if len(bounds) > 1 else size
    return value[start:end] if end >= start else value[0:0]


def size(value: Any, call: Call) -> Any:
    if call.args:
        return call.problem("takes no arguments")
    if isinstance(value, list | str | dict):
        return len(value)
    return call.problem(f"expected an array, a string or an object, found {type_name(value)}")


def entries(value: Any, call: Call) -> Any:
    if call.args:
        return call.problem("takes no arguments")
    if not isinstance(value, dict):
        return call.problem(f"expected an object, found {type_name(value)}")
    return [{"key": k, "value": v} for k, v in value.items()]


def json_stringify(value: Any, call: Call) -> Any:
    if call.args:
        return call.problem("takes no arguments")
    return compact_json(value)


def scalar_text(value: Any) -> str | None:
    """A scalar's text (strings as is, others as JSON), as in URLs and joins; else None."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool) or is_number(value):
        return compact_json(value)
    return None


def join_not_null(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    separator = call.arg(0, value)
    if not isinstance(separator, str):
        return call.problem("the separator must be a string")
    items = value if isinstance(value, list) else [value]
    texts: list[str] = []
    for item in items:
        if item is None:
            continue
        text = scalar_text(item)
        if text is None:
            return call.problem(f"cannot join {type_name(item)}")
        texts.append(text)
    return separator.join(texts)


def _predicate(value: Any, call: Call, item: Any) -> bool | None:
    result = call.arg(0, item)
    return result if isinstance(result, bool) else None


def filter_(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    items = value if isinstance(value, list) else [value]
    kept = []
    for item in items:
        verdict = _predicate(value, call, item)
        if verdict is None:
            return call.problem("the predicate must give a boolean")
        if verdict:
            kept.append(item)
    return kept


def find(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    for item in value if isinstance(value, list) else [value]:
        if _predicate(value, call, item):
            return item
    return MISSING


def get(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    key = call.arg(0, value)
    if isinstance(value, dict) and isinstance(key, str):
        return value[key] if key in value else call.problem(f"no property {key!r}")
    if isinstance(value, list | str) and isinstance(key, int) and not isinstance(key, bool):
        index = key + len(value) if key < 0 else key
        if 0 <= index < len(value):
            return value[index]
        return call.problem(f"index {key} out of range")
    return call.problem(f"cannot get {type_name(key)} of {type_name(value)}")


def _compare(op: str) -> Method:
    def method(value: Any, call: Call) -> Any:
        if not _arity(call, 1, 1):
            return call.problem("takes exactly one argument")
        other = call.arg(0, value)
        if op in ("eq", "ne"):
            return json_equal(value, other) == (op == "eq")
        if is_number(value) and is_number(other):
            a, b = float(value), float(other)
        elif isinstance(value, str) and isinstance(other, str):
            a, b = value, other  # type: ignore[assignment]
        else:
            return call.problem(f"cannot compare {type_name(value)} with {type_name(other)}")
        return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]

    return method


def in_(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    items = call.arg(0, value)
    if not isinstance(items, list):
        return call.problem("expects an array")
    return any(json_equal(value, item) for item in items)


def contains(value: Any, call: Call) -> Any:
    if not _arity(call, 1, 1):
        return call.problem("takes exactly one argument")
    if not isinstance(value, list):
        return call.problem(f"expected an array, found {type_name(value)}")
    needle = call.arg(0, value)
    return any(json_equal(item, needle) for item in value)


def _logic(is_and: bool) -> Method:
    def method(value: Any, call: Call) -> Any:
        if not isinstance(value, bool):
            return call.problem(f"expected a boolean, found {type_name(value)}")
        result = value
        for index in range(len(call.args)):
            if result != is_and:  # short-circuit: False for and, True for or
                return result
            arg = call.arg(index, value)
            if not isinstance(arg, bool):
                return call.problem(f"expected boolean arguments, found {type_name(arg)}")
            result = arg
        return result

    return method


def not_(value: Any, call: Call) -> Any:
    if call.args:
        return call.problem("takes no arguments")
    if not isinstance(value, bool):
        return call.problem(f"expected a boolean, found {type_name(value)}")
    return not value


def _arith(op: str) -> Method:
    def method(value: Any, call: Call) -> Any:
        if not is_number(value):
            return call.problem(f"expected a number, found {type_name(value)}")
        result = value
        for index in range(len(call.args)):
            operand = call.arg(index, value)
            if not is_number(operand):
                return call.problem(f"expected numeric arguments, found {type_name(operand)}")
            if op in ("div", "mod") and operand == 0:
                return call.problem("division by zero")
            if op == "add":
                result = result + operand
            elif op == "sub":
                result = result - operand
            elif op == "mul":
                result = result * operand
            elif op == "div":
                result = float(result) / float(operand)
            elif isinstance(result, int) and isinstance(operand, int):
                result = result - operand * int(result / operand)  # sign of the dividend
            else:
                result = math.fmod(result, operand)
        return result

    return method


def to_string(value: Any, call: Call) -> Any:
    if call.args:
        return call.problem("takes no arguments")
    if value is None:
        return ""
    text = scalar_text(value)
    return text if text is not None else call.problem(f"cannot convert {type_name(value)}")


def parse_int(value: Any, call: Call) -> Any:
    if not _arity(call, 0, 1):
        return call.problem("takes at most one argument")
    base = call.arg(0, value) if call.args else 10
    if not isinstance(base, int) or isinstance(base, bool) or not 2 <= base <= 36:
        return call.problem("the base must be an integer from 2 to 36")
    if is_number(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), base)
        except ValueError:
            return call.problem(f"cannot parse {value!r} in base {base}")
    return call.problem(f"expected a string or a number, found {type_name(value)}")


METHODS: dict[str, Method] = {
    # connect v0.1 / v0.2
    "echo": echo,
    "map": map_,
    "match": match,
    "first": _end(last=False),
    "last": _end(last=True),
    "slice": slice_,
    "size": size,
    "entries": entries,
    "jsonStringify": json_stringify,
    "joinNotNull": join_not_null,
    # connect v0.3
    "filter": filter_,
    "find": find,
    "get": get,
    "eq": _compare("eq"),
    "ne": _compare("ne"),
    "gt": _compare("gt"),
    "gte": _compare("gte"),
    "lt": _compare("lt"),
    "lte": _compare("lte"),
    "in": in_,
    "contains": contains,
    "and": _logic(is_and=True),
    "or": _logic(is_and=False),
    "not": not_,
    "add": _arith("add"),
    "sub": _arith("sub"),
    "mul": _arith("mul"),
    "div": _arith("div"),
    "mod": _arith("mod"),
    "toString": to_string,
    "parseInt": parse_int,
}
