"""The package's shape: stages import downward only, so each can be read (and tested) without the
ones after it. Imports inside functions count too: a lazy import is still a dependency."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "proactive"

#: What evaluation and reporting are made of; training must not need any of it.
EVALUATION_SIDE = {"evaluation", "judges", "results_table", "human_eval", "html_views", "widgets", "pipeline", "cli",
                   "systems", "system_specs", "plots", "run_folder"}


def imports() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports, at the top or inside a function."""
    graph = {}
    for path in PACKAGE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1:
                    found |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
                elif node.module and node.module.startswith("proactive."):
                    found.add(node.module.split(".")[1])
        graph[path.stem] = found & {p.stem for p in PACKAGE.glob("*.py")} | (found & {"data", "configs"})
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
    assert graph["config"] <= {"errors", "models"}, graph["config"]
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
    graph = imports()
    assert not reachable(graph, "training") & EVALUATION_SIDE, reachable(graph, "training") & EVALUATION_SIDE


def test_training_and_evaluation_share_one_rollout_layer():
    """The policy and the dialogue loop sit below both: each side imports them, neither defines its own."""
    graph = imports()
    for side in ("training", "rft", "evaluation"):
        assert {"policy", "dialogues"} <= reachable(graph, side), side
    assert not reachable(graph, "dialogues") & (EVALUATION_SIDE | {"training", "rft"})


def test_only_the_command_line_sits_on_top():
    graph = imports()
    assert not any("cli" in deps for deps in graph.values())
    assert {m for m, deps in graph.items() if "pipeline" in deps} <= {"cli"}
