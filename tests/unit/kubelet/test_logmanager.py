"""Termination messages: the message file first, the log's tail on error only."""

from __future__ import annotations

from pathlib import Path

from kybernetes.kubelet.logmanager import log_tail, termination_message


def write_log(path: Path, lines: list[str]) -> None:
    text = "".join(
        f"2025-01-01T00:00:0{i % 10}.000000000Z stdout F {line}\n" for i, line in enumerate(lines)
    )
    path.write_text(text)


def test_message_file_wins(tmp_path: Path) -> None:
    message, log = tmp_path / "msg", tmp_path / "0.log"
    message.write_text("bye")
    write_log(log, ["crashed"])
    assert termination_message(message, log, "FallbackToLogsOnError", 1) == "bye"


def test_fallback_to_logs_only_on_error(tmp_path: Path) -> None:
    message, log = tmp_path / "msg", tmp_path / "0.log"
    message.write_text("")
    write_log(log, ["one", "two"])
    assert termination_message(message, log, "FallbackToLogsOnError", 1) == "one\ntwo\n"
    assert termination_message(message, log, "FallbackToLogsOnError", 0) == ""
    assert termination_message(message, log, "File", 1) == ""
    assert termination_message(None, tmp_path / "missing", "FallbackToLogsOnError", 1) == ""


def test_tail_keeps_80_lines_and_2048_bytes(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write_log(log, [f"line {i}" for i in range(200)])
    tail = log_tail(log)
    assert tail.splitlines()[0] == "line 120" and tail.splitlines()[-1] == "line 199"
    write_log(log, ["x" * 1000 for _ in range(10)])
    assert len(log_tail(log)) == 2048


def test_message_is_capped(tmp_path: Path) -> None:
    message = tmp_path / "msg"
    message.write_text("m" * 10000)
    assert len(termination_message(message, None, "File", 0)) == 4096
