"""Every failure reason the loaders can write to `ops.load_log.error` is listed in the guides
(docs/operating.md "Faults and retries", or docs/sources.md for a source's own): found in the
code itself, so a new reason, or a reworded one, fails here until the guide says it too."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from .conftest import ROOT

# the exceptions whose message becomes a window's error, and the records checks that refuse a body
REASON_CLASSES = {
    "SourceError",
    "UnreachableError",
    "HostDownError",
    "SourceTimeoutError",
    "BadResponseError",
    "RequestFailedError",
    "HttpStatusError",
    "RecordError",
    "MissingKey",
    "FieldCollision",
    "TypeDrift",
}
# shorter literal runs ("from", "in the") say nothing about which reason a guide lists
MIN_FRAGMENT = 8
GUIDES = ("docs/operating.md", "docs/sources.md")
# endings many reasons share: a guide quoting one of them has not listed any particular reason
GENERIC = {"no rows were taken from it", "none were taken", "the key is", "not attempted"}


def literal_runs(node: ast.expr) -> list[str]:
    """The literal text of a message between its placeholders: f"cannot reach {url}: {e}" gives
    ["cannot reach ", ": ", ""]."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        runs = [""]
        for value in node.values:
            if isinstance(value, ast.Constant):
                runs[-1] += str(value.value)
            else:
                runs.append("")
        return runs
    if isinstance(node, ast.BinOp):
        return literal_runs(node.left) + literal_runs(node.right)
    return []


def _error_targets(node: ast.Assign) -> Iterator[ast.expr]:
    """The value assigned to `x.error`, alone or in a tuple assignment."""
    for target in node.targets:
        if isinstance(target, ast.Attribute) and target.attr == "error":
            yield node.value
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            for element, value in zip(target.elts, node.value.elts, strict=False):
                if isinstance(element, ast.Attribute) and element.attr == "error":
                    yield value


def messages(tree: ast.AST) -> Iterator[tuple[int, ast.expr]]:
    """Where a module writes a reason: a reason exception's message, an `error=` argument, or an
    assignment to `.error`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in REASON_CLASSES and node.args:
                yield node.lineno, node.args[0]
            yield from ((node.lineno, kw.value) for kw in node.keywords if kw.arg == "error")
        elif isinstance(node, ast.Assign):
            yield from ((node.lineno, value) for value in _error_targets(node))


def reasons() -> list[tuple[str, list[str]]]:
    """(file:line, its literal fragments) for every reason the loaders write."""
    found = []
    for path in sorted((ROOT / "loaders").rglob("*.py")):
        if "testing" in path.parts:  # the replay server's own messages are not load-log reasons
            continue
        for line, message in messages(ast.parse(path.read_text(encoding="utf-8"))):
            fragments = [run.strip(" ;:,.()'") for run in literal_runs(message)]
            fragments = [" ".join(f.split()) for f in fragments if len(f) >= MIN_FRAGMENT]
            fragments = [f for f in fragments if f not in GENERIC]
            if fragments:
                found.append((f"{path.relative_to(ROOT)}:{line}", fragments))
    return found


def guide_text() -> str:
    text = " ".join((ROOT / page).read_text(encoding="utf-8") for page in GUIDES)
    return " ".join(text.split())


def test_the_code_writes_the_reasons_this_test_looks_for():
    found = dict(reasons())
    # a sample of reasons the faults produce, so a broken extraction cannot pass empty
    assert len(found) > 30, len(found)
    for expected in (
        "returned truncated or malformed JSON",
        "records have no value in the natural-key field",
        "which already holds",
        "returned JSON without a list of records (got",
    ):
        assert any(expected in f for fragments in found.values() for f in fragments), expected


def test_every_failure_reason_the_code_writes_is_listed_in_the_guides():
    guides = guide_text()
    missing = [
        f"{where}: {fragments}"
        for where, fragments in reasons()
        if not any(fragment in guides for fragment in fragments)
    ]
    assert not missing, "not in docs/operating.md or docs/sources.md:\n" + "\n".join(missing)


def test_the_faults_section_states_the_rule():
    section = (ROOT / "docs" / "operating.md").read_text(encoding="utf-8")
    section = section.split("## Faults and retries", 1)[1].split("\n## ", 1)[0]
    rule = " ".join(section.split())
    assert "a window lands complete and correct, or it is recorded `failed`" in rule
    assert "never `ok` (or `empty`) with fewer rows than the source sent, never partly" in rule
