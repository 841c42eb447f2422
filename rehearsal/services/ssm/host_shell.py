"""Runs a host document's shell script with the real bash on a stand-in for the client host, and
answers the host's programs from the offline account while it runs.

The host's file system is a temporary directory, ROOT: the script's /opt/cloudhsm paths are
rewritten to ROOT/opt/cloudhsm before it runs, and ROOT is taken out of what it prints and of the
command lines it reports. configure-cli and cloudhsm-cli are in ROOT/opt/cloudhsm/bin only when the
host's first boot installed the CloudHSM client, so without it the script fails as bash says ("No
such file or directory"). `aws` and `python3` (the rehearsal's interpreter; Amazon Linux 2023 has
python3) come first on PATH; the environment is the host's own, with no credentials of the
rehearsal's. bash runs in a session of its own, as under the SSM Agent: there is no terminal.

The stand-ins (host_tools) are thin clients of this process over ROOT/host.sock, served between the
script's steps on the thread that runs it (the model is never touched by two threads): `aws` is
answered by aws_cli, cloudhsm-cli by cloudhsm_cli. Each reports its command line and those of the
processes that started it (bash, its subshells, a helper); a password of the run (a secret the host
read, one that cloudhsm-cli was given) on any of them is reported, since every user of a host can
read command lines (ps, /proc/PID/cmdline).
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from rehearsal.services.ssm import aws_cli, cloudhsm_cli, host_tools

TOOLS = Path(__file__).with_name("host_tools.py")
CLIENT = "/opt/cloudhsm"
# A wall-clock limit for one script, well above what one takes (about a second), so a script that
# waits for input it never gets fails the command instead of the rehearsal.
TIME_LIMIT_SECONDS = 120.0


@dataclass(frozen=True)
class Host:
    """`instance_id`: the host's AWS CLI calls are authorised as its instance profile's role (None: not
    authorised, as when no deployment code sent the command)."""
    account: str
    region: str
    instance_id: str | None = None
    client_installed: bool = True


@dataclass
class HostRun:
    exit_code: int
    stdout: str
    stderr: str
    command_lines: list[list[str]] = field(default_factory=list)   # every one the stand-ins saw
    exposed: list[str] = field(default_factory=list)               # findings: a password on a command line


class _Session:
    """One script's run: what the stand-ins saw, and their answers."""

    def __init__(self, host: Host, root: str) -> None:
        self.host, self.root = host, root
        self.command_lines: list[list[str]] = []
        self.passwords: set[str] = set()
        self.failure: Exception | None = None

    def answer(self, request: dict) -> dict:
        for line in request["command_lines"]:
            line = [part.replace(self.root, "") for part in line]
            if line not in self.command_lines:
                self.command_lines.append(line)
        host = self.host
        if request["tool"] == "aws":
            stdout, stderr, status, secret = aws_cli.answer(host.account, host.region, host.instance_id, request["argv"])
            self.passwords |= {secret} if secret else set()
            return {"stdout": stdout, "stderr": stderr, "exit": status}
        if request["tool"] == "cloudhsm-cli":
            stdout, status, given = cloudhsm_cli.answer(host.account, host.region, request)
            self.passwords |= given
            return {"stdout": stdout, "stderr": "", "exit": status}
        refused = request.get("refused")
        return {"stdout": "", "stderr": f"configure-cli: {refused}\n" if refused else "", "exit": 2 if refused else 0}

    def exposed(self) -> list[str]:
        findings = []
        for line in self.command_lines:
            shown = " ".join(line)
            found = [password for password in self.passwords if password in shown]
            for password in found:
                shown = shown.replace(password, "****")
            if found:
                findings.append(f"rehearsal: a password is on the command line `{shown[:200]}`: any user of the host "
                                "can read it (ps); type it at cloudhsm-cli's prompt instead")
        return findings


def _stand_in(path: Path, tool: str, root: str) -> None:
    path.write_text(f"#!{sys.executable} -IS\nimport sys\nsys.path.append({str(TOOLS.parent)!r})\nimport host_tools\n"
                    f"host_tools.main({tool!r}, {root + '/host.sock'!r}, {root!r}, {os.getpid()})\n")
    path.chmod(0o755)


def _install(root: str, host: Host) -> None:
    bin_dir = Path(root, "bin")
    for directory in (bin_dir, Path(root, "root"), Path(root, "tmp")):
        directory.mkdir()
    _stand_in(bin_dir / "aws", "aws", root)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    if host.client_installed:
        client = Path(root + CLIENT)
        (client / "bin").mkdir(parents=True)
        (client / "etc").mkdir()
        for tool in ("configure-cli", "cloudhsm-cli"):
            _stand_in(client / "bin" / tool, tool, root)


def _reply(connection: socket.socket, session: _Session) -> None:
    connection.settimeout(10)
    try:
        response = session.answer(host_tools.receive(connection))
    except Exception as error:   # a fault of the model: the run raises it once the script has ended
        session.failure = session.failure or error
        response = {"stdout": "", "stderr": f"rehearsal: the stand-in host failed: {error!r}\n", "exit": 255}
    host_tools.send(connection, response)


def _serve(process: subprocess.Popen, server: socket.socket, session: _Session) -> int | None:
    """Answer the stand-ins until the script ends; its exit status, or None when it ran out of time."""
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ)
    try:
        exit_notice = os.pidfd_open(process.pid)
        selector.register(exit_notice, selectors.EVENT_READ)
    except (AttributeError, OSError):
        exit_notice = None   # no pidfd (not Linux): look for the exit every 50 ms
    deadline = time.monotonic() + TIME_LIMIT_SECONDS
    try:
        while process.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            for key, _ in selector.select(remaining if exit_notice is not None else min(remaining, 0.05)):
                if key.fileobj is server:
                    connection, _ = server.accept()
                    with connection:
                        _reply(connection, session)
        return process.returncode
    finally:
        selector.close()
        if exit_notice is not None:
            os.close(exit_notice)
        try:
            os.killpg(process.pid, signal.SIGKILL)   # what the script left running (or all of it, out of time)
        except ProcessLookupError:
            pass
        process.wait()


def run(script: str, host: Host) -> HostRun:
    """Run `script` on a fresh stand-in host; raises what the model raised while answering it."""
    with tempfile.TemporaryDirectory(prefix="host-") as root:
        _install(root, host)
        Path(root, "_script.sh").write_text(script.replace(CLIENT, root + CLIENT))
        session = _Session(host, root)
        environment = {"PATH": f"{root}/bin:/usr/local/bin:/usr/bin:/bin", "HOME": f"{root}/root",
                       "TMPDIR": f"{root}/tmp", "LANG": "C.UTF-8"}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            server.bind(f"{root}/host.sock")
            server.listen(8)
            server.setblocking(False)
            with open(f"{root}/stdout", "wb") as stdout, open(f"{root}/stderr", "wb") as stderr:
                process = subprocess.Popen([shutil.which("bash") or "/bin/bash", "_script.sh"], cwd=root, env=environment,
                                           stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True)
            status = _serve(process, server, session)
        if session.failure is not None:
            raise session.failure
        stdout, stderr = (Path(root, name).read_text(errors="replace").replace(root, "") for name in ("stdout", "stderr"))
    if status is None:
        status, stderr = 124, stderr + f"rehearsal: the script ran longer than {TIME_LIMIT_SECONDS:.0f} s and was stopped\n"
    return HostRun(status, stdout, stderr, session.command_lines, session.exposed())
