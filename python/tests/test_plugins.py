"""Plugin request handlers: modules named in EMPO_WORKER_PLUGINS, imported on first use, through the real worker."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from empo_worker.plugins import PluginInvalid, PluginModuleMissing, PluginRegistry, module_names

TOY = '''
import os
from pathlib import Path

Path(os.environ["TOY_MARKER"]).write_text("imported")


def echo(payload, emit, cancel):
    for step in range(2):
        emit({"step": step})
    return {"echo": payload, "pid": os.getpid()}


HANDLERS = {"toy.echo": echo, "toy.score": lambda payload, emit, cancel: len(payload["text"])}
'''


def plugin_folder(tmp_path: Path, **modules: str) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    return folder


def run_worker(lines: list[dict], plugins: str, folder: Path, marker: Path) -> list[dict]:
    env = {**os.environ, "EMPO_WORKER_PLUGINS": plugins, "TOY_MARKER": str(marker),
           "PYTHONPATH": os.pathsep.join([str(REPO / "python"), str(folder)])}
    proc = subprocess.run(
        [sys.executable, "-m", "empo_worker"],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True, text=True, timeout=120, cwd=REPO / "python", env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_plugin_methods_are_served_and_imported_only_when_first_needed(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, empo_toy=TOY)
    marker = tmp_path / "marker"
    before = run_worker([{"id": 1, "_tag": "throughput", "payload": {"count": 1}}, {"id": 2, "_tag": "shutdown"}],
                        "empo_toy", folder, marker)
    assert [m["_tag"] for m in before] == ["ready", "event", "result", "result"]
    assert not marker.exists()

    messages = run_worker([{"id": 1, "_tag": "toy.echo", "payload": {"x": 1}}, {"id": 2, "_tag": "shutdown"}],
                          "empo_toy", folder, marker)
    assert marker.read_text() == "imported"
    assert [m["event"] for m in messages if m["_tag"] == "event"] == [{"step": 0}, {"step": 1}]
    result = next(m for m in messages if m["_tag"] == "result" and m["id"] == 1)
    assert result["value"]["echo"] == {"x": 1}


def test_an_unknown_method_lists_builtin_and_plugin_methods(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, empo_toy=TOY)
    messages = run_worker([{"id": 1, "_tag": "toy.nope"}], "empo_toy", folder, tmp_path / "marker")
    error = messages[-1]
    assert error["kind"] == "input" and "unknown request 'toy.nope'" in error["message"]
    assert "toy.echo" in error["message"] and "train" in error["message"]


def test_a_module_that_cannot_be_imported_is_missing_naming_it_and_the_variable(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, empo_toy=TOY)
    messages = run_worker([{"id": 1, "_tag": "toy.echo"}], "empo_toy,empo_not_installed", folder, tmp_path / "m")
    error = messages[-1]
    assert error["_tag"] == "error" and error["kind"] == "missing" and error["type"] == "PluginModuleMissing"
    assert "'empo_not_installed'" in error["message"] and "EMPO_WORKER_PLUGINS" in error["message"]


def test_a_method_registered_twice_names_both_modules(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, empo_toy=TOY, empo_clash="HANDLERS = {'toy.echo': lambda p, e, c: None}\n")
    messages = run_worker([{"id": 1, "_tag": "toy.echo"}], "empo_toy,empo_clash", folder, tmp_path / "m")
    error = messages[-1]
    assert error["kind"] == "failed" and error["type"] == "PluginInvalid"
    assert "'toy.echo'" in error["message"] and "'empo_toy'" in error["message"] and "'empo_clash'" in error["message"]


def test_a_method_clashing_with_a_builtin_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin_folder(tmp_path, empo_shadow="HANDLERS = {'train': lambda p, e, c: None}\n")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    registry = PluginRegistry(["empo_shadow"], builtins={"train", "versions"})
    with pytest.raises(PluginInvalid, match="'train' of plugin module 'empo_shadow' clashes with the built-in"):
        registry.handler("anything")
    # The failure is kept: a second request gets the same error without importing again.
    with pytest.raises(PluginInvalid):
        registry.handler("anything")
    assert registry.describe()[0]["error"].startswith("method 'train'")


def test_versions_reports_the_plugin_modules_and_their_methods(tmp_path: Path) -> None:
    folder = plugin_folder(tmp_path, empo_toy=TOY)
    messages = run_worker([{"id": 1, "_tag": "versions"}], "empo_toy", folder, tmp_path / "marker")
    value = messages[-1]["value"]
    assert value["plugins"] == [{"module": "empo_toy", "methods": ["toy.echo", "toy.score"]}]


def test_module_names_ignore_blanks_and_repeats() -> None:
    assert module_names(" a, b,,a ,") == ["a", "b"]
    assert module_names(None) == []
    with pytest.raises(PluginModuleMissing):
        PluginRegistry(["empo_surely_absent_module"], builtins=()).handler("x")
