"""Progress bars show on a terminal and nowhere else (CI logs, pipes and report files stay clean)."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

from cmk_validate.progress import steps

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests" / "validators" / "fixtures" / "base_architecture.yaml"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_bar_and_every_item_still_comes_through():
    screen = Terminal()
    assert list(steps(range(5), "rules", unit="rule", stream=screen)) == [0, 1, 2, 3, 4]
    shown = screen.getvalue()
    assert "rules:" in shown and "/5 [" in shown


def test_a_pipe_or_file_sees_nothing():
    piped = io.StringIO()
    assert list(steps(range(5), "rules", stream=piped)) == [0, 1, 2, 3, 4]
    assert piped.getvalue() == ""


def test_the_command_is_quiet_when_stderr_is_not_a_terminal():
    done = subprocess.run([sys.executable, "-m", "cmk_validate", str(TEMPLATE), "--no-cfn-lint"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stderr == ""


def test_the_command_shows_progress_on_a_terminal():
    """stderr on a pseudo-terminal, as when a person runs it; stdout (the report) stays a pipe."""
    controller, terminal = pty.openpty()
    # a new pseudo-terminal is 0 columns wide, which leaves a bar no room; a person's is 80 or more
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        done = subprocess.run([sys.executable, "-m", "cmk_validate", str(TEMPLATE), "--no-cfn-lint"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=300)
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0 and "0 error(s)" in done.stdout
    from cmk_validate.rules import discover

    assert b"rules:" in shown and f"/{len(discover())} [".encode() in shown
