"""Parser of the mapping language: text -> ``ast.Selection``, or a coded error with a position.

A tokenizer (whitespace and ``#`` comments skipped) feeds a recursive-descent parser of the grammar
in docs/connectors.md. Version-gated syntax (``?``, ``??``, ``?!`` need connect v0.3; ``...``
spreads are v0.4, which we do not claim) is refused with a clear message. Method names are
checked against the evaluator's table, so an unknown method fails when the schema is loaded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import NoReturn

from . import ast
from .errors import SelectionSyntaxError
from .methods import METHODS

Version = tuple[int, int]
DEFAULT_VERSION: Version = (0, 2)

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<spread>\.\.\.)
  | (?P<num>-?(?:\d+(?:\.\d*)?|\.\d+))
  | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>->|\?\?|\?!|[$@.:{}()\[\],?])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # num var ident str op eof
    text: str
    offset: int


def _unquote(text: str) -> str:
    body = text[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    literal_openers = {"(", "[", ",", ":", "??", "?!"}
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise SelectionSyntaxError(f"unexpected character {source[pos]!r}", source, pos)
        kind = match.lastgroup or ""
        text = match.group()
        if (
            kind == "num"
            and text.startswith(".")
            and (not tokens or tokens[-1].text not in literal_openers)
        ):
            # ``.5`` only where a literal may start; elsewhere ``.`` is a step
            kind, text = "op", "."
        if kind != "ws":
            tokens.append(Token("op" if kind == "spread" else kind, text, pos))
        pos += len(text)
    tokens.append(Token("eof", "", len(source)))
    return tokens


class _Parser:
    def __init__(self, source: str, version: Version) -> None:
        self.source = source
        self.version = version
        self.tokens = tokenize(source)
        self.i = 0

    # ---------------------------------------------------------------- helpers

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.i + n, len(self.tokens) - 1)]

    def at(self, text: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == text

    def advance(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect(self, text: str) -> Token:
        if not self.at(text):
            self.fail(f"expected {text!r}")
        return self.advance()

    def fail(self, message: str, token: Token | None = None) -> NoReturn:
        token = token or self.tok
        found = "end of input" if token.kind == "eof" else repr(token.text)
        raise SelectionSyntaxError(f"{message}, found {found}", self.source, token.offset)

    def needs(self, version: Version, what: str) -> None:
        if self.version < version:
            major, minor = version
            raise SelectionSyntaxError(
                f"{what} needs connect v{major}.{minor} or later",
                self.source,
                self.tok.offset,
            )

    def is_key(self) -> bool:
        return self.tok.kind in ("ident", "str")

    def key(self) -> str:
        token = self.advance()
        return _unquote(token.text) if token.kind == "str" else token.text

    # ---------------------------------------------------------------- selections

    def selection(self) -> ast.Selection:
        if self.tok.kind == "eof":
            self.fail("a selection must not be empty")
        items = self.items()
        if self.tok.kind != "eof":
            self.fail("expected a field, an alias or a path")
        if len(items) == 1 and isinstance(items[0][1], ast.PathSel):
            return ast.Selection(path=items[0][1], source=self.source)
        return ast.Selection(sub=self.named(items), source=self.source)

    def named(self, items: list[tuple[int, ast.Named | ast.PathSel]]) -> ast.Sub:
        out: list[ast.Named] = []
        for offset, item in items:
            if isinstance(item, ast.PathSel):
                if item.sub is None:
                    raise SelectionSyntaxError(
                        "Named path selection must either begin with alias or ..., "
                        "or end with subselection",
                        self.source,
                        offset,
                    )
                out.append(ast.Merge(item))
            else:
                out.append(item)
        return ast.Sub(tuple(out))

    def items(self) -> list[tuple[int, ast.Named | ast.PathSel]]:
        """Items up to ``}`` or the end, each with its offset (for error positions)."""
        found: list[tuple[int, ast.Named | ast.PathSel]] = []
        while self.tok.kind != "eof" and not self.at("}"):
            offset = self.tok.offset
            found.append((offset, self.item()))
        return found

    def sub(self) -> ast.Sub:
        self.expect("{")
        items = self.items()
        self.expect("}")
        return self.named(items)

    def item(self) -> ast.Named | ast.PathSel:
        if self.at("..."):
            self.needs((0, 4), "a '...' spread")
        if self.is_key():
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text == ":":
                alias = self.key()
                self.advance()
                if self.at("{"):
                    return ast.Group(alias, self.sub())
                return ast.Alias(alias, self.pathsel())
            if nxt.kind == "op" and nxt.text in (".", "->", "?"):
                path = self.path()
                if isinstance(path.start, ast.KeyStart) and not path.steps:
                    sub = self.sub() if self.at("{") else None
                    return ast.Field(path.start.key, sub, path.start.optional)
                return ast.PathSel(path, self.sub() if self.at("{") else None)
            name = self.key()
            return ast.Field(name, self.sub() if self.at("{") else None)
        if self.tok.kind == "var" or self.at("$") or self.at("@"):
            return self.pathsel()
        if self.at("."):
            self.fail("a path may not start with '.key' (write '$.key')")
        self.fail("expected a field, an alias or a path")

    def pathsel(self) -> ast.PathSel:
        path = self.path()
        return ast.PathSel(path, self.sub() if self.at("{") else None)

    def path(self) -> ast.Path:
        start: ast.VarStart | ast.KeyStart | ast.LitStart
        token = self.tok
        if token.kind == "var":
            self.advance()
            start = ast.VarStart(token.text)
        elif self.at("@"):
            self.advance()
            start = ast.VarStart("@")
        elif self.at("$"):
            self.advance()
            if self.at("(") and self.tok.offset == token.offset + 1:
                self.advance()
                lit = self.lit()
                self.expect(")")
                start = ast.LitStart(lit)
            else:
                start = ast.VarStart("$")
        elif self.is_key():
            start = ast.KeyStart(self.key(), self.optional())
        elif self.at("."):
            self.fail("a path may not start with '.key' (write '$.key')")
        else:
            self.fail("expected a path")
        if not isinstance(start, ast.KeyStart) and self.at("?"):
            self.fail("'?' after a variable is not supported")
        return ast.Path(start, self.steps())

    def optional(self) -> bool:
        if self.at("?"):
            self.needs((0, 3), "the optional step '?'")
            self.advance()
            if self.at("?"):
                self.fail("'?' may not follow '?'")
            return True
        return False

    def steps(self) -> tuple[ast.Step, ...]:
        steps: list[ast.Step] = []
        while True:
            if self.at("."):
                self.advance()
                if not self.is_key():
                    self.fail("expected a key after '.'")
                steps.append(ast.KeyStep(self.key(), self.optional()))
            elif self.at("->"):
                self.advance()
                if self.tok.kind != "ident":
                    self.fail("expected a method name after '->'")
                name_token = self.advance()
                if name_token.text not in METHODS:
                    raise SelectionSyntaxError(
                        f"Method ->{name_token.text} not found", self.source, name_token.offset
                    )
                args: list[ast.Lit] = []
                if self.at("("):
                    self.advance()
                    while not self.at(")"):
                        args.append(self.lit())
                        if not self.at(","):
                            break
                        self.advance()
                    self.expect(")")
                steps.append(ast.MethodStep(name_token.text, tuple(args)))
            else:
                return tuple(steps)

    # ---------------------------------------------------------------- literals

    def lit(self) -> ast.Lit:
        first = self.lit_single()
        if not (self.at("??") or self.at("?!")):
            return first
        self.needs((0, 3), f"the operator {self.tok.text!r}")
        op = self.tok.text
        items = [first]
        while self.at("??") or self.at("?!"):
            if self.tok.text != op:
                self.fail("'??' and '?!' may not be mixed in one chain")
            self.advance()
            items.append(self.lit_single())
        return ast.LitCoalesce(op, tuple(items))

    def lit_single(self) -> ast.Lit:
        token = self.tok
        base: ast.Lit
        if token.kind == "str":
            self.advance()
            base = ast.LitValue(_unquote(token.text))
        elif token.kind == "num":
            self.advance()
            number = float(token.text)
            integral = "." not in token.text
            base = ast.LitValue(int(token.text) if integral else number)
        elif token.kind == "ident" and token.text in ("true", "false", "null"):
            self.advance()
            base = ast.LitValue(json.loads(token.text))
        elif self.at("{"):
            base = self.lit_object()
        elif self.at("["):
            base = self.lit_array()
        else:
            return ast.LitPath(self.pathsel())
        steps = self.steps()
        return ast.LitChain(base, steps) if steps else base

    def lit_object(self) -> ast.LitObject:
        self.expect("{")
        props: list[tuple[str, ast.Lit]] = []
        while not self.at("}"):
            if not self.is_key():
                self.fail("expected a property name")
            name = self.key()
            if not self.at(":"):
                self.needs((0, 4), "a shorthand object property")
            self.advance()
            props.append((name, self.lit()))
            if not self.at(","):
                break
            self.advance()
        self.expect("}")
        return ast.LitObject(tuple(props))

    def lit_array(self) -> ast.LitArray:
        self.expect("[")
        items: list[ast.Lit] = []
        while not self.at("]"):
            items.append(self.lit())
            if not self.at(","):
                break
            self.advance()
        self.expect("]")
        return ast.LitArray(tuple(items))


def parse_selection(source: str, version: Version = DEFAULT_VERSION) -> ast.Selection:
    """Parse a JSONSelection; raises :class:`SelectionSyntaxError` (code, line, column)."""
    return _Parser(source, version).selection()
