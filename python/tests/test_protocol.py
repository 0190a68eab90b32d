import json
import subprocess
import sys

from conftest import REPO


def run_worker(lines: list[str]) -> tuple[list[dict], int]:
    proc = subprocess.run(
        [sys.executable, "-m", "empo_worker"],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO / "python",
    )
    return [json.loads(line) for line in proc.stdout.splitlines()], proc.returncode


def test_stdout_carries_only_tagged_messages_and_bad_lines_are_reported() -> None:
    messages, code = run_worker([
        "this is not json",
        json.dumps({"id": 1, "_tag": "bogus"}),
        json.dumps({"id": 2, "_tag": "cancel", "target": 99}),
        json.dumps({"id": 3, "_tag": "shutdown"}),
    ])
    assert code == 0
    assert [m["_tag"] for m in messages] == ["ready", "protocolError", "result", "error", "result"]
    assert messages[0]["protocol"] == 1
    error = messages[3]
    assert error["id"] == 1 and error["kind"] == "input" and "unknown request 'bogus'" in error["message"]
    assert messages[2] == {"_tag": "result", "id": 2, "value": {"cancelled": False}}


def test_input_faults_name_the_file_and_line(tmp_path) -> None:
    data = tmp_path / "pairs.jsonl"
    data.write_text(json.dumps({"prompt": [{"role": "user", "content": "hi"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}) + "\n")
    request = {"id": 7, "_tag": "train", "payload": {
        "stage": "kto", "model": str(tmp_path), "trainData": str(data), "outputDir": str(tmp_path / "out"),
        "hyper": {"learningRate": 1e-3, "batchSize": 2, "maxLength": 64},
    }}
    messages, _ = run_worker([json.dumps(request)])
    error = messages[-1]
    assert error["_tag"] == "error" and error["kind"] == "input"
    assert f"{data}:1: KTO trains on unpaired rows" in error["message"]
    assert not (tmp_path / "out").exists()
