#!/bin/bash
# The start of every host document (activate_cluster.sh, set_kmsuser_password.sh are appended to it):
# cloudhsm-cli pointed at an ACTIVE HSM, the cluster's trust anchor installed, both passwords read
# from Secrets Manager into shell variables (never on a command line, never echoed). cloudhsm-cli
# runs in single command mode, the mode AWS documents for scripts (CloudHSM User Guide, "Command
# modes in CloudHSM CLI"); the admin logs in with CLOUDHSM_ROLE/CLOUDHSM_PIN, set for one command only.
#
# How a new password reaches cloudhsm-cli: the documented ways are its prompt ("Enter password:",
# "Confirm password:") and --password. The prompt reads the terminal, not standard input, so a
# password piped in is not a documented way, and under SSM Run Command there is no terminal at all.
# --password would put the password in the command line, which every user of the host can read (ps,
# /proc/PID/cmdline). So `cloudhsm` runs cloudhsm-cli on a pseudo-terminal (Python's pty module;
# Amazon Linux 2023 has python3) and answers its prompts: the password goes from this shell to the
# helper in the helper's environment (readable by root only, like CLOUDHSM_PIN), which removes it
# before starting the CLI, then to the CLI on the terminal with echo off. It is in no command line,
# pipe, file or log, and the helper masks it should the CLI print it.
set -euo pipefail
set +x
region="{{ Region }}"
cluster_id="{{ ClusterId }}"
cli=/opt/cloudhsm/bin/cloudhsm-cli
/opt/cloudhsm/bin/configure-cli -a "{{ HsmIp }}"
aws ssm get-parameter --region "$region" --name "{{ TrustAnchorParameterName }}" --query Parameter.Value --output text > /opt/cloudhsm/etc/customerCA.crt
admin_password="$(aws secretsmanager get-secret-value --region "$region" --secret-id "{{ AdminPasswordSecretArn }}" --query SecretString --output text)"
kmsuser_password="$(aws secretsmanager get-secret-value --region "$region" --secret-id "{{ KmsUserPasswordSecretArn }}" --query SecretString --output text)"
IFS= read -r -d '' on_terminal <<'PY' || true
import json, os, pty, re, signal, sys
password = os.environ.pop("NEW_PASSWORD", None)
pid, terminal = pty.fork()
if pid == 0:
    import termios
    mode = termios.tcgetattr(0)
    mode[3] &= ~termios.ECHO
    termios.tcsetattr(0, termios.TCSANOW, mode)
    os.execv(sys.argv[1], sys.argv[1:])
prompt = re.compile(rb"(?:Enter|Confirm) password:")
output, answered = b"", 0
while True:
    try:
        chunk = os.read(terminal, 4096)
    except OSError:
        break
    if not chunk:
        break
    output += chunk
    while len(prompt.findall(output)) > answered:
        if password is None or answered == 2:
            os.kill(pid, signal.SIGKILL)
            print(json.dumps({"error_code": 1, "data": "cloudhsm-cli asked for a password the script does not give"}))
            sys.exit(1)
        os.write(terminal, password.encode() + b"\n")
        answered += 1
os.waitpid(pid, 0)
text = prompt.sub(b"", output).decode(errors="replace").replace("\r", "")
if password:
    text = text.replace(password, "********")
try:
    result = json.JSONDecoder().raw_decode(text, text.index("{"))[0]
except ValueError:
    print(" ".join(text.split()) or "cloudhsm-cli printed nothing")
    sys.exit(1)
print(json.dumps(result))
sys.exit(0 if result.get("error_code") == 0 else 1)
PY
# cloudhsm PASSWORD ARGS...: cloudhsm-cli ARGS on a pseudo-terminal, its prompts answered with the
# value of the variable named PASSWORD (- for none); prints the CLI's JSON on one line and succeeds
# only if its error_code is 0.
cloudhsm() {
  local answer=$1
  shift
  if [[ $answer == - ]]; then
    python3 -I -c "$on_terminal" "$cli" "$@"
  else
    NEW_PASSWORD="${!answer}" python3 -I -c "$on_terminal" "$cli" "$@"
  fi
}
as_admin() { CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:${admin_password}" cloudhsm "$@"; }
# fail WHAT OUTPUT: the host's error on one line (the handler reports the last line of stderr).
fail() { echo "$1 failed: $(tr -s '[:space:]' ' ' <<<"$2")" >&2; exit 1; }
