"""The docs keep up with the code: every environment variable read is in docs/configuration.md, every doc is
reachable from README.md's docs map, and no relative link points to a file or section that is not there."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ROOT / "docs" / "configuration.md"
SETTINGS = sorted((ROOT / "plantsite" / "settings").glob("*.py"))
# The rest of the service: the launcher, the broker, the apps and the library they run.
SERVICE = sorted(
    path
    for package in ("plantsite", "ml", "recognition", "plantml")
    for path in (ROOT / package).rglob("*.py")
    if "settings" not in path.parts and "migrations" not in path.parts
)
# django-environ's readers: env("X"), env.bool("X"), env.db("X") ...
ENV_READERS = {
    "bool", "int", "float", "str", "bytes", "list", "tuple", "dict", "json", "url", "path", "parse_value",
    "db", "db_url", "cache", "cache_url", "email", "email_url", "search_url", "channels", "channels_url",
}  # fmt: skip
OS_ENVIRON_READERS = {"get", "setdefault", "pop"}


def _is_os_environ(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and _is_name(node.value, "os")


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _read_argument(node: ast.AST) -> ast.AST | None:
    """Return the expression naming the variable this node reads from the environment, or None if it reads none."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_os_environ(node.value):
        return node.slice  # os.environ["X"]
    if not isinstance(node, ast.Call) or not node.args:
        return None
    func = node.func
    if _is_name(func, "env"):  # env("X")
        return node.args[0]
    if isinstance(func, ast.Attribute):
        if _is_name(func.value, "env") and func.attr in ENV_READERS:  # env.int("X")
            return node.args[0]
        if _is_os_environ(func.value) and func.attr in OS_ENVIRON_READERS:  # os.environ.get("X")
            return node.args[0]
        if _is_name(func.value, "os") and func.attr == "getenv":  # os.getenv("X")
            return node.args[0]
    return None


def environment_reads(path: Path) -> tuple[set[str], list[str]]:
    """Return the variable names a module reads from the environment, and the reads whose name it cannot tell.

    A function that passes one of its parameters as the name (``_whole_number(name, ...)`` calling
    ``env(name, ...)``) is followed: each call of it with a literal name counts as a read of that name.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    unresolved: list[str] = []
    forwarders: dict[str, int] = {}  # function name -> position of the parameter it reads
    forwarded: set[int] = set()  # id() of the read expressions a forwarder's parameter explains
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        parameters = [argument.arg for argument in function.args.args]
        for node in ast.walk(function):
            argument = _read_argument(node)
            if isinstance(argument, ast.Name) and argument.id in parameters:
                forwarders[function.name] = parameters.index(argument.id)
                forwarded.add(id(argument))
    for node in ast.walk(tree):
        argument = _read_argument(node)
        if argument is None and isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            position = forwarders.get(node.func.id)
            if position is not None and len(node.args) > position:
                argument = node.args[position]
        if argument is None or id(argument) in forwarded:
            continue
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            names.add(argument.value)
        else:
            shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            unresolved.append(f"{shown}:{node.lineno}: {ast.unparse(node)}")
    return names, unresolved


def documented_variables() -> set[str]:
    """Return the names in backquotes in the first column of docs/configuration.md's tables."""
    names = set()
    for line in CONFIGURATION.read_text().splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def _reads(paths: list[Path]) -> set[str]:
    names, unresolved = set(), []
    for path in paths:
        found, unclear = environment_reads(path)
        names |= found
        unresolved += unclear
    assert not unresolved, "reads whose variable name this test cannot tell (give it a literal name):\n" + "\n".join(
        unresolved
    )
    return names


def test_every_variable_the_settings_read_is_in_the_configuration_doc():
    read = _reads(SETTINGS)
    # the parser sees a plain env.int(...), a raw os.environ read and a read through a helper's parameter
    assert {"PASSWORD_RESET_TIMEOUT", "DJANGO_SECRET_KEY", "RECOGNITION_BATCH_PHOTOS"} <= read
    missing = sorted(read - documented_variables())
    assert not missing, f"add these to a table in docs/configuration.md, with default and meaning: {missing}"


def test_every_variable_the_rest_of_the_service_reads_is_in_the_configuration_doc():
    read = _reads(SERVICE)
    assert {"REDIS_URL", "PORT", "WORLD_SIZE"} <= read  # the broker, the launcher, the library
    missing = sorted(read - documented_variables())
    assert not missing, f"add these to a table in docs/configuration.md, with default and meaning: {missing}"


def test_a_read_through_a_helper_counts_and_an_unnamed_read_is_reported(tmp_path):
    module = tmp_path / "sample_settings.py"
    module.write_text(
        "import os\n"
        "def number(name, default):\n"
        "    return env.int(name, default=default)\n"
        "A = number('HELPED', 1)\n"
        "B = os.environ['DIRECT'] + os.getenv('GOTTEN', '')\n"
        "C = env(PREFIX + 'X')\n"
    )
    names, unresolved = environment_reads(module)
    assert names == {"HELPED", "DIRECT", "GOTTEN"}
    assert len(unresolved) == 1 and "PREFIX" in unresolved[0]


# --- the docs map and links -------------------------------------------------------------------------------

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def doc_files() -> list[Path]:
    """Return the docs README.md's map must reach: docs/*.md (not docs/pending/), CONTRIBUTING.md, tests/README.md."""
    return [*sorted((ROOT / "docs").glob("*.md")), ROOT / "CONTRIBUTING.md", ROOT / "tests" / "README.md"]


def links(path: Path) -> list[str]:
    """Return the targets of the Markdown links in a file, outside fenced code blocks."""
    return LINK.findall(FENCE.sub("", path.read_text()))


def docs_map_links() -> list[str]:
    """Return the link targets in README.md's "Map of the docs" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Map of the docs", 1)
    assert len(section) == 2, 'README.md needs its "## Map of the docs" section'
    return LINK.findall(section[1].split("\n## ", 1)[0])


def heading_anchors(path: Path) -> set[str]:
    """Return GitHub's anchors for a Markdown file's headings (lower case, punctuation dropped, spaces to '-')."""
    anchors = set()
    for line in FENCE.sub("", path.read_text()).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return anchors


def test_every_doc_is_linked_from_the_readme_docs_map():
    linked = {(ROOT / target.split("#")[0]).resolve() for target in docs_map_links()}
    unlinked = [str(path.relative_to(ROOT)) for path in doc_files() if path.resolve() not in linked]
    assert not unlinked, f'link these from README.md\'s "Map of the docs": {unlinked}'


def test_every_relative_link_in_the_docs_points_to_a_file_and_section_that_exist():
    sources = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for source in sources:
        for target in links(source):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            path = (source.parent / file_part).resolve() if file_part else source
            if not path.exists():
                broken.append(f"{source.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and path.suffix == ".md" and anchor not in heading_anchors(path):
                broken.append(f"{source.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_link_check_sees_a_missing_heading():
    anchors = heading_anchors(ROOT / "README.md")
    assert "the-two-commands" in anchors and "no-such-section" not in anchors
