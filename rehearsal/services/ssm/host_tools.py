"""The programs the stand-in host has where the client host has `aws`, `configure-cli` and
`cloudhsm-cli`: thin clients of the rehearsal process (rehearsal.services.ssm.host_shell).

Each sends its command line, the command lines of the processes that started it (so a password on
any of them is found) and what it read on the host (the CLI's configuration and trust anchor, the
login variables, a typed password) over the host's Unix socket, and prints the answer. Only what
happens on the host is done here: configure-cli writes the configuration file, and cloudhsm-cli
prompts for passwords on the terminal, as the CloudHSM CLI documentation shows it:
"Enter password:" then "Confirm password:" for a new password (CloudHSM User Guide, "Command modes
in CloudHSM CLI", "Activate the cluster", "Create an AWS CloudHSM user with CloudHSM CLI"), without
echo, on the terminal. The documentation gives no way to pipe a password in, so when standard input
is not a terminal (a pipe from `printf ... | cloudhsm-cli`, or nothing, as under SSM Run Command)
the stand-in refuses instead of prompting, and says so; --password is the other documented way.

Standard library only: each tool is a short-lived process of its own.
"""

from __future__ import annotations

import json
import os
import socket
import sys

CONFIGURATION = "/opt/cloudhsm/etc/cloudhsm-cli.cfg"   # the stand-in's own layout: {"servers": [{"hostname", "port"}]}
TRUST_ANCHOR = "/opt/cloudhsm/etc/customerCA.crt"
# Commands that take a new password (or, for login, the user's), at the prompt or with --password.
PROMPTED = {("cluster", "activate"): 2, ("user", "create"): 2, ("user", "change-password"): 2, ("login",): 1}
PROMPTS = ("Enter password:", "Confirm password:")


def _command_lines(stop_pid: int) -> list[list[str]]:
    """This process's command line and its ancestors', up to the rehearsal process (Linux /proc)."""
    found, pid = [], os.getpid()
    while pid > 1 and pid != stop_pid:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline, open(f"/proc/{pid}/stat", "rb") as stat:
                found.append([part.decode(errors="replace") for part in cmdline.read().split(b"\0")[:-1]])
                pid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except OSError:
            return found or [sys.argv]
    return found


def send(connection: socket.socket, message: dict) -> None:
    """The host's protocol, both ways: one JSON document on one line."""
    connection.sendall(json.dumps(message).encode() + b"\n")


def receive(connection: socket.socket) -> dict:
    message = b""
    while not message.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            break
        message += chunk
    return json.loads(message)


def _ask(request: dict, socket_path: str) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(socket_path)
        send(connection, request)
        return receive(connection)


def _read(root: str, path: str) -> str | None:
    try:
        with open(root + path, encoding="utf-8") as file:
            return file.read()
    except OSError:
        return None


def _configure(root: str, args: list[str]) -> dict:
    """`configure-cli -a <HSM IPs>` (CloudHSM User Guide, "AWS CloudHSM Client SDK 5 configuration
    examples"): the addresses the CLI connects to, in its configuration file."""
    if len(args) < 2 or args[0] != "-a":
        return {"refused": "the stand-in host's configure-cli takes -a <HSM IP addresses> only"}
    with open(root + CONFIGURATION, "w", encoding="utf-8") as file:
        json.dump({"servers": [{"hostname": address, "port": 2223} for address in args[1:]]}, file)
    return {}


def _typed(count: int) -> list[str] | None:
    """The password typed at the prompts on the process's terminal, echo off; None when standard input
    is not a terminal (a pipe is never read for a password) or there is no terminal to prompt on."""
    import termios

    if not os.isatty(0):
        return None
    try:
        terminal = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    mode = termios.tcgetattr(terminal)
    quiet = list(mode)
    quiet[3] &= ~termios.ECHO
    answers = []
    try:
        termios.tcsetattr(terminal, termios.TCSANOW, quiet)
        for prompt in PROMPTS[:count]:
            os.write(terminal, prompt.encode() + b" ")
            line = b""
            while not line.endswith(b"\n"):
                chunk = os.read(terminal, 1024)
                if not chunk:
                    break
                line += chunk
            os.write(terminal, b"\n")
            answers.append(line.rstrip(b"\r\n").decode())
    finally:
        termios.tcsetattr(terminal, termios.TCSANOW, mode)
        os.close(terminal)
    return answers


def _cloudhsm_cli(root: str, args: list[str]) -> dict:
    """What the CLI read on the host: configuration, trust anchor, login variables, the typed password."""
    found = {"configuration": _read(root, CONFIGURATION), "trust_anchor": _read(root, TRUST_ANCHOR),
             "environment": {name: os.environ[name] for name in ("CLOUDHSM_ROLE", "CLOUDHSM_PIN") if name in os.environ}}
    words = tuple(arg for arg in args[:2] if not arg.startswith("-"))
    count = PROMPTED.get(words[:1]) or PROMPTED.get(words)
    if count and "--password" not in args:
        typed = _typed(count)
        if typed is None:
            return {**found, "refused": "cannot prompt for the password: no terminal (a password on standard input "
                                        "is not read); type it at the prompt on a terminal or give --password"}
        if len(set(typed)) != 1:
            return {**found, "refused": "the passwords do not match"}
        found["password"] = typed[0]
    return found


def main(tool: str, socket_path: str, root: str, rehearsal_pid: int) -> None:
    """Run `tool` with this process's arguments: what it does on the host, then the rehearsal's answer."""
    args = sys.argv[1:]
    on_host = {"configure-cli": _configure, "cloudhsm-cli": _cloudhsm_cli}.get(tool, lambda root, args: {})
    request = {"tool": tool, "argv": [tool, *args], "command_lines": _command_lines(rehearsal_pid),
               **on_host(root, args)}
    answer = _ask(request, socket_path)
    sys.stdout.write(answer["stdout"])
    sys.stderr.write(answer["stderr"])
    sys.exit(answer["exit"])
