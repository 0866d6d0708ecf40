"""The command's shape: a package of command modules over one workflow, no module importing another in a
circle (lazy imports inside functions included), and nothing outside the command importing it."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "relance_erpnext"


def imports_of(path: Path) -> set[str]:
	"""Every relance_erpnext module this file imports, at the top or inside a function."""
	found = set()
	for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
		if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("relance_erpnext"):
			for alias in node.names:
				candidate = f"{node.module}.{alias.name}"
				found.add(candidate if module_file(candidate) else node.module)
		elif isinstance(node, ast.Import):
			found.update(a.name for a in node.names if a.name.startswith("relance_erpnext"))
	return found


def module_file(name: str) -> Path | None:
	parts = name.split(".")[1:]
	for candidate in (PACKAGE.joinpath(*parts).with_suffix(".py"), PACKAGE.joinpath(*parts, "__init__.py")):
		if candidate.exists():
			return candidate
	return None


def graph() -> dict[str, set[str]]:
	modules = {}
	for path in [*PACKAGE.joinpath("cli").glob("*.py"), *PACKAGE.joinpath("connectors").glob("*.py")]:
		rel = path.relative_to(PACKAGE.parent).with_suffix("")
		name = ".".join(rel.parts).removesuffix(".__init__")
		modules[name] = {m for m in imports_of(path) if m != name}
	return modules


def test_no_import_cycle_between_modules():
	edges = graph()
	# The package's __init__ wires the commands (it imports them all); a command module never imports
	# the package itself
	for name, targets in edges.items():
		if name not in ("relance_erpnext.cli", "relance_erpnext.cli.__main__"):
			assert "relance_erpnext.cli" not in targets, f"{name} imports the cli package"
	state: dict[str, int] = {}

	def visit(node, stack):
		state[node] = 1
		for target in edges.get(node, ()):
			if state.get(target) == 1:
				raise AssertionError(" -> ".join([*stack, node, target]))
			if target in edges and not state.get(target):
				visit(target, [*stack, node])
		state[node] = 2

	for node in edges:
		if not state.get(node):
			visit(node, [])


def test_connectors_never_import_the_command():
	for name, targets in graph().items():
		if name.startswith("relance_erpnext.connectors"):
			assert not any(t.startswith("relance_erpnext.cli") for t in targets), name


def test_one_module_per_command():
	names = {p.stem for p in PACKAGE.joinpath("cli").glob("*.py")}
	assert {
		"__init__",
		"workflow",
		"config",
		"plan",
		"run",
		"demo",
		"overview",
		"check",
		"match",
		"log",
		"rates",
	} <= names
	assert not list(PACKAGE.glob("cli*.py")), "the old cli modules are gone"


def defined(path: Path) -> set[str]:
	"""The names a module defines at its top level (functions, classes, constants)."""
	names = set()
	for node in ast.parse(path.read_text(encoding="utf-8")).body:
		if isinstance(node, ast.FunctionDef | ast.ClassDef):
			names.add(node.name)
		elif isinstance(node, ast.Assign):
			names.update(t.id for t in node.targets if isinstance(t, ast.Name))
	return names


def test_the_configuration_is_loaded_and_checked_in_one_module():
	"""config.py loads the configuration and checks it whole (`relance check`'s validation);
	overview.py is the overview command alone, check.py the `check` command over config.py."""
	cli = PACKAGE / "cli"
	config = defined(cli / "config.py")
	assert {
		"load_config",
		"settings_from",
		"sender_from",
		"smtp_from",
		"ConfigCheck",
		"check_config",
	} <= config
	assert {"Problem", "iban_problem", "bucket_problem"} <= config
	overview = defined(cli / "overview.py")
	assert not overview & {"ConfigCheck", "check_config", "Problem", "cmd_check", "iban_problem"}, overview
	assert "cmd_overview" in overview
	assert "cmd_check" in defined(cli / "check.py")
	assert "relance_erpnext.cli.overview" not in imports_of(cli / "check.py")
