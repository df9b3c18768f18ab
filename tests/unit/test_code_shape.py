"""Guards on the code's shape (ARCHITECTURE.md): small functions and files, arrows pointing
down (handlers never reach the database layer), one place that builds each client."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT

MAX_FUNCTION_LINES = 60
MAX_FILE_LINES = 350


def product_files() -> list[Path]:
    files = [PROJECT_ROOT / "bot.py"]
    for folder in ("src", "config"):
        files += sorted((PROJECT_ROOT / folder).rglob("*.py"))
    return files


def functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def imported_modules(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def constructions(name: str) -> list[str]:
    """The files that call `name(...)` or a factory such as `name.from_settings(...)`."""
    found = []
    for path in product_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute):
                func = func.value
            if isinstance(func, ast.Name) and func.id == name:
                found.append(str(path.relative_to(PROJECT_ROOT)))
    return found


@pytest.mark.parametrize("path", product_files(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_files_and_functions_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_FILE_LINES
    lengths = {
        fn.name: (fn.end_lineno or fn.lineno) - fn.lineno + 1 for fn in functions(ast.parse(text))
    }
    assert {name: n for name, n in lengths.items() if n > MAX_FUNCTION_LINES} == {}


def test_the_bot_never_imports_the_database_layer() -> None:
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted((PROJECT_ROOT / "src" / "bot").rglob("*.py"))
        if any(
            m == "src.database" or m.startswith("src.database.")
            for m in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert offenders == []


def test_config_imports_nothing_from_src() -> None:
    for path in sorted((PROJECT_ROOT / "config").rglob("*.py")):
        modules = imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        assert not [m for m in modules if m == "src" or m.startswith("src.")], path


@pytest.mark.parametrize(
    ("name", "place"),
    [
        ("Bot", "src/bot/bot_factory.py"),
        ("LLMClient", "src/bootstrap.py"),
        ("DemoAssistant", "src/bootstrap.py"),
        ("build_exchange", "src/bootstrap.py"),  # one ccxt exchange client per process
        ("ChartRenderer", "src/bootstrap.py"),  # one pool of render processes
    ],
)
def test_each_client_is_built_in_one_place(name: str, place: str) -> None:
    assert constructions(name) == [place]


def development_packages() -> set[str]:
    """Import names of what requirements-dev.txt adds (`./manage.sh start` does not install it)."""
    names = set()
    for raw in (PROJECT_ROOT / "requirements-dev.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-") or line.startswith("types-"):
            continue
        names.add(line.split("==", 1)[0].split("[", 1)[0].strip().lower().replace("-", "_"))
    return names


def test_the_service_imports_no_development_package() -> None:
    dev = development_packages()
    assert {"pytest", "ruff", "tqdm"} <= dev
    files = [*product_files(), *sorted((PROJECT_ROOT / "alembic").rglob("*.py"))]
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): module
        for path in files
        for module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.split(".", 1)[0] in dev
    }
    assert offenders == {}
