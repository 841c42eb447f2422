"""Where a finding is in the repository: the source line that created the resource's construct, read
from the creation stack trace CDK records in the cloud assembly, and nothing else.

CDK writes, for each construct of a stack, its path (`aws:cdk:path` in the resource's template
metadata and `aws:cdk:logicalId` entries in `<stack>.metadata.json`) and, when stack traces are on,
the frames that created it (`aws:cdk:creationStack`, or a `trace` list on the logical-id entry in
earlier CDK 2). A Python app's frames are only there when jsii passes them on: `JSII_HOST_STACK_TRACES=1`,
which `cdk synth --debug` (or `CDK_DEBUG=true`) also turns on. A frame reads "function (file:line)" or
"function (file:line:column)"; the one used is the innermost whose file is inside the repository and
not vendored (node_modules, a virtual environment, site-packages). No trace, or no such frame: no
source location, and the report falls back to the template.
"""

from __future__ import annotations

import os
import re

FRAME = re.compile(r"\((?P<file>[^()]+?):(?P<line>\d+)(?::\d+)?\)\s*$")
VENDORED = {"node_modules", "site-packages", "dist-packages", ".venv", "venv", "cdk.out"}
CDK_PATH = "aws:cdk:path"


def find_source_root(start: str) -> str:
    """The nearest directory at or above `start` holding `.git` (a directory, or a worktree's file); ''."""
    directory = os.path.realpath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return ""
        directory = parent


class SourceMap:
    """Per finding: the CDK construct path and, when a trace shows it, (repository-relative file, line)."""

    def __init__(self, assembly, source_root: str) -> None:
        self._assembly = assembly
        self.root = os.path.realpath(source_root) if source_root else ""

    def construct_path(self, stack_name: str, logical_id: str) -> str:
        """"Stack/Construct/Resource" from the resource's metadata or the assembly's; '' if unknown."""
        stack = self._stack(stack_name)
        if stack is None or not logical_id:
            return ""
        resource = stack.resources.get(logical_id)
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        path = metadata.get(CDK_PATH) if isinstance(metadata, dict) else None
        if not isinstance(path, str):
            path = stack.construct_paths.get(logical_id)
        return path.strip("/") if isinstance(path, str) else ""

    def source(self, stack_name: str, logical_id: str) -> tuple[str, int] | None:
        """(path relative to the repository root, with '/', line) of the construct's creation, or None."""
        stack = self._stack(stack_name)
        if stack is None or not self.root or not logical_id:
            return None
        for frame in stack.construct_traces.get(logical_id, ()):
            match = FRAME.search(frame)
            if match is None:
                continue
            relative = self._inside_root(match.group("file"))
            if relative is not None:
                return relative, int(match.group("line"))
        return None

    def relative_to_root(self, path: str) -> str | None:
        """`path` relative to the repository root with '/', or None when it is outside."""
        if not self.root:
            return None
        real = os.path.realpath(path)
        if os.path.commonpath([self.root, real]) != self.root:
            return None
        return os.path.relpath(real, self.root).replace(os.sep, "/")

    def _inside_root(self, file_name: str) -> str | None:
        path = file_name if os.path.isabs(file_name) else os.path.join(self.root, file_name)
        relative = self.relative_to_root(path)
        if relative is None or relative == "." or VENDORED & set(relative.split("/")) \
                or not os.path.isfile(os.path.join(self.root, relative)):
            return None
        return relative

    def _stack(self, name: str):
        return self._assembly.stack(name) if self._assembly is not None else None
