"""SSM Run Command as the host documents meet it: moto's SendCommand and GetCommandInvocation,
with the document's script run on a stand-in client host (models, host_shell), grafted onto moto's
backend by `install()`.

No responses.py: moto's SSM responses carry both calls unchanged; only the backend differs.
"""

from __future__ import annotations

from moto.ssm import models as ssm_models

from rehearsal.services.ssm import models


def install() -> None:
    backend = ssm_models.SimpleSystemManagerBackend
    backend.send_command = models.send_command
    backend.get_command_invocation = models.get_command_invocation
