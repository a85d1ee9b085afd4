"""The package's shape: stages import downward only, so each can be read (and tested) without the
ones after it. Imports inside functions count too: a lazy import is still a dependency."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "proactive"

#: What evaluation and reporting are made of; training must not need any of it.
EVALUATION_SIDE = {"evaluation", "judges", "results_table", "human_eval", "html_views", "widgets", "pipeline", "cli",
                   "systems", "system_specs", "plots", "run_folder"}


def _module_name(path: Path) -> str:
    """``training`` for proactive/training.py; ``methods`` for the methods package, ``methods.rft`` for its modules."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


def _runtime_nodes(tree: ast.AST):
    """Every node of a module but those under ``if TYPE_CHECKING:`` (annotations only: nothing runs them)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        yield node
        todo.extend(ast.iter_child_nodes(node))


def imports() -> dict[str, set[str]]:
    """Each module of the package (and of its ``methods`` package) -> the package modules it imports, at
    the top or inside a function."""
    paths = [*PACKAGE.glob("*.py"), *(PACKAGE / "methods").glob("*.py")]
    names = {_module_name(p) for p in paths}
    graph = {}
    for path in paths:
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                    targets = [".".join([*base, node.module])] if node.module else [".".join([*base, a.name]) for a in node.names]
                elif node.module and node.module.startswith("proactive."):
                    targets = [node.module[len("proactive."):]]
                else:
                    continue
                for target in targets:
                    target = target.strip(".")
                    # a module of the package, else the package (or subpackage) it names
                    while target and target not in names and target.split(".")[0] not in ("data", "configs"):
                        target = target.rpartition(".")[0]
                    if target:
                        found.add(target if target in names else target.split(".")[0])
        graph[name] = found - {name}
    return graph


def test_the_graph_is_read_from_the_source():
    graph = imports()
    assert {"pipeline", "training", "config", "reward"} <= set(graph)
    assert "training" in graph["pipeline"] and "masking" in graph["training"]


def test_no_module_imports_itself_back():
    graph = imports()
    state: dict[str, str] = {}

    def visit(module, path):
        state[module] = "open"
        for dep in sorted(graph.get(module, ())):
            assert state.get(dep) != "open", f"import cycle: {' -> '.join(path + [dep])}"
            if dep not in state:
                visit(dep, path + [dep])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_settings_sit_with_the_ground_modules():
    graph = imports()
    # config reads each method's settings class through the registry, which needs only ground modules
    assert graph["config"] <= {"errors", "models", "methods", "tracking"}, graph["config"]
    assert graph["tracking"] <= {"errors"}, graph["tracking"]  # report_to is read with the profile
    assert graph["methods"] <= {"errors", "files"}, graph["methods"]
    assert graph["models"] <= {"errors", "files"}, graph["models"]
    assert graph["files"] <= {"errors"}, graph["files"]  # reading and writing files is ground too
    assert graph["errors"] == set()


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` needs, directly or through the modules it imports."""
    seen, todo = set(), [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def test_training_needs_nothing_from_evaluation():
    from proactive.methods import BUILTIN_METHODS

    graph = imports()
    # The registry imports its methods by name (importlib): each is part of the training side too.
    method_modules = {path.removeprefix("proactive.") for path in BUILTIN_METHODS.values()}
    assert method_modules <= set(graph), method_modules - set(graph)
    for side in ("training", *method_modules):
        assert not reachable(graph, side) & EVALUATION_SIDE, (side, reachable(graph, side) & EVALUATION_SIDE)


def test_training_and_evaluation_share_one_rollout_layer():
    """The policy and the dialogue loop sit below both: each side imports them, neither defines its own."""
    graph = imports()
    for side in ("methods.rft", "methods.grpo", "evaluation"):
        assert {"policy", "dialogues"} <= reachable(graph, side), side
    assert not reachable(graph, "dialogues") & (EVALUATION_SIDE | {"training", "rft_sampling", "methods.rft"})


def test_only_the_command_line_sits_on_top():
    graph = imports()
    assert not any("cli" in deps for deps in graph.values())
    assert {m for m, deps in graph.items() if "pipeline" in deps} <= {"cli"}
