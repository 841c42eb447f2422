"""Read a cloud assembly (manifest.json, stages, nested stacks) or a single template.

JSON is read with the standard library (10x faster than a line-tracking parser on large
templates). Line numbers come from cfn-lint's decoder when it has decoded the template anyway
(YAML, whose short-form intrinsics only it reads, or when cfn-lint runs); otherwise a finding's
keys are searched in the JSON text in path order, which gives the line of the nearest key.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any, Iterator

from cmk_validate.findings import InputError
from cmk_validate.model import template_checks, transforms
from cmk_validate.model.property_types import kind_of

MAX_TEMPLATE_BYTES = 20 * 1024 * 1024  # CloudFormation's own limit is 1 MB; beyond 20 MB it is not a template


@dataclass
class Stack:
    """One deployed CloudFormation stack (top-level or nested)."""

    name: str
    template: dict
    template_file: str
    account: str | None = None
    region: str | None = None
    parent: "Stack | None" = None
    parent_resource: str | None = None
    is_yaml: bool = False
    # False when `name` is only a label (a file's name, a nested stack's path): AWS::StackName is unknown.
    name_is_deployed: bool = True
    # Parts the rules cannot read (a transform the validator does not expand, a missing nested template):
    # (template path, why), each reported as a finding, never skipped in silence.
    unchecked: list = field(default_factory=list)
    # From the cloud assembly's construct metadata: logical id -> construct path ("/Stack/Bucket/Resource"),
    # and CDK acknowledgements (Validations.of(scope).acknowledge): (scope path, "Plugin::RULE", reason).
    construct_paths: dict = field(default_factory=dict)
    cdk_acknowledgements: list = field(default_factory=list)
    # Logical id -> the construct's creation stack trace, as CDK records it when traces are on
    # (`JSII_HOST_STACK_TRACES=1` for a Python app, `CDK_DEBUG=true` / `cdk synth --debug`): frames
    # such as "__init__ (/repo/stacks/data_stack.py:31)", innermost first.
    construct_traces: dict = field(default_factory=dict)
    # From manifest.json: the stacks this one is deployed after, and its asset manifests (files).
    depends_on: tuple[str, ...] = ()
    asset_manifests: tuple[str, ...] = ()
    _decoded: Any = None
    _decoded_loaded: bool = False

    @property
    def resources(self) -> dict:
        resources = self.template.get("Resources")
        return resources if isinstance(resources, dict) else {}

    @property
    def parameters(self) -> dict:
        parameters = self.template.get("Parameters")
        return parameters if isinstance(parameters, dict) else {}

    @property
    def outputs(self) -> dict:
        outputs = self.template.get("Outputs")
        return outputs if isinstance(outputs, dict) else {}

    @property
    def conditions(self) -> dict:
        conditions = self.template.get("Conditions")
        return conditions if isinstance(conditions, dict) else {}

    def decoded(self) -> Any:
        """The template as cfn-lint decodes it (nodes carry line marks); None if it will not decode."""
        if not self._decoded_loaded:
            self._decoded_loaded = True
            if self.is_yaml:
                self._decoded = self.template
            else:
                from cfnlint.decode.decode import decode

                try:
                    self._decoded, _ = decode(self.template_file)
                except Exception:  # a location is a nicety; never fail a run for it
                    self._decoded = None
        return self._decoded

    def locate(self, path: tuple) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest part of `path` the template has."""
        if not self._decoded_loaded and not self.is_yaml:
            return self._search_locate(path)  # decoding JSON again costs more than all the rules
        node = self.decoded()
        best: tuple[int | None, int | None] = (None, None)
        for part in path:
            if isinstance(node, dict):
                key = next((k for k in node if k == part), None)
                if key is None:
                    break
                mark = getattr(key, "start_mark", None)
                if mark is not None:
                    best = (mark.line + 1, mark.column + 1)
                node = node[key]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                mark = getattr(node, "start_mark", None)
                if mark is not None:
                    best = (mark.line + 1, mark.column + 1)
            else:
                break
        return best

    def resource_end_line(self, logical_id: str) -> int | None:
        """1-based line on which the resource's block ends (its closing brace in JSON, its last line in
        YAML), or None if the template text does not show it."""
        if self.is_yaml:
            node = self.resources.get(logical_id)
            start, end = getattr(node, "start_mark", None), getattr(node, "end_mark", None)
            if start is None or end is None:
                return None
            self._read_text()
            lines = self._text.splitlines()
            # A block mapping ends where the next key begins: then its last line is the one before,
            # less trailing blank and comment lines.
            last = end.line + 1
            if end.line >= len(lines) or not lines[end.line][:end.column].strip():
                last = end.line
                while last > start.line + 1 and (not lines[last - 1].strip() or lines[last - 1].lstrip().startswith("#")):
                    last -= 1
            return max(start.line + 1, last)
        self._read_text()
        start = self._resource_positions().get(logical_id)
        if start is None:
            return None
        brace = self._text.find("{", self._text.find(":", start))
        try:
            _, end = json.JSONDecoder().raw_decode(self._text, brace)
        except (ValueError, RecursionError):
            return None
        return bisect.bisect_right(self._line_starts, end - 1)

    def _read_text(self) -> None:
        if not hasattr(self, "_text"):
            with open(self.template_file, encoding="utf-8") as handle:
                self._text = handle.read()
            self._line_starts = [0] + [match.end() for match in re.finditer("\n", self._text)]

    def _resource_positions(self) -> dict[str, int]:
        if not hasattr(self, "_positions"):
            self._positions = _resource_positions_of(self._text, set(self.resources))
        return self._positions

    def _search_locate(self, path: tuple) -> tuple[int | None, int | None]:
        """For JSON too large to decode twice quickly: find each key of `path` in order after its parent's
        position. Stops at the first list index, so the answer is the nearest enclosing key's line."""
        self._read_text()
        text, position, found = self._text, 0, None
        if len(path) >= 2 and path[0] == "Resources" and isinstance(path[1], str):
            start = self._resource_positions().get(path[1])
            if start is None:
                return None, None
            position, found, path = start, start, path[2:]
        for part in path:
            if not isinstance(part, str):
                break
            index = text.find(json.dumps(part) + ":", position)
            if index < 0:
                index = text.find(json.dumps(part) + " :", position)
            if index < 0:
                break
            position, found = index, index
        if found is None:
            return None, None
        line = bisect.bisect_right(self._line_starts, found)
        return line, found - self._line_starts[line - 1] + 1


def _resource_positions_of(text: str, names: set) -> dict[str, int]:
    """First position of each logical id as a key after "Resources", in one pass."""
    start = text.find('"Resources"')
    positions: dict[str, int] = {}
    for match in re.finditer(r'"([A-Za-z0-9]+)"\s*:', text[start:] if start >= 0 else text):
        name = match.group(1)
        if name in names and name not in positions:
            positions[name] = match.start() + max(start, 0)
    return positions


@dataclass
class Assembly:
    """All stacks found under one input, with their exports indexed by name."""

    root: str
    stacks: list[Stack] = field(default_factory=list)
    source: str = ""      # the path as given (a directory, or the one template file)

    def __post_init__(self) -> None:
        self.tokens: dict[str, tuple[str, str, str]] = {}

    def stack(self, name: str) -> Stack | None:
        return next((s for s in self.stacks if s.name == name), None)

    def exports(self) -> dict[str, tuple[Stack, Any]]:
        if not hasattr(self, "_exports"):
            found: dict[str, tuple[Stack, Any]] = {}
            for stack in self.stacks:
                for output in stack.outputs.values():
                    if isinstance(output, dict) and isinstance(output.get("Export"), dict):
                        name = output["Export"].get("Name")
                        if isinstance(name, str):
                            found[name] = (stack, output.get("Value"))
                        elif name is not None:
                            from cmk_validate.model.resolver import Resolver

                            resolved = Resolver(self, stack).resolve(name)
                            if isinstance(resolved, str):
                                found[resolved] = (stack, output.get("Value"))
            self._exports = found
        return self._exports

    def iter_resources(self, *types: str) -> Iterator[tuple[Stack, str, dict]]:
        """Resources of the given types (all when none), in stack then template order."""
        if not types:
            for stack in self.stacks:
                for logical_id, resource in stack.resources.items():
                    if isinstance(resource, dict):
                        yield stack, logical_id, resource
            return
        index = self._type_index()
        for stack_number, stack in enumerate(self.stacks):
            for kind in types:
                for logical_id in index.get((stack_number, kind), ()):
                    yield stack, logical_id, stack.resources[logical_id]

    def _type_index(self) -> dict[tuple[int, str], list[str]]:
        """(stack number, type) -> logical ids, rebuilt when resources are added or removed (mutation tests)."""
        key = (len(self.stacks), sum(len(stack.resources) for stack in self.stacks))
        if getattr(self, "_index_key", None) != key:
            index: dict[tuple[int, str], list[str]] = {}
            for number, stack in enumerate(self.stacks):
                for logical_id, resource in stack.resources.items():
                    if isinstance(resource, dict) and isinstance(resource.get("Type"), str):
                        index.setdefault((number, resource["Type"]), []).append(logical_id)
            self._index, self._index_key = index, key
        return self._index


def load(path: str) -> Assembly:
    """Load a cloud assembly directory or one template file; InputError on anything unusable."""
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory")
    if os.path.isdir(path):
        manifest = os.path.join(path, "manifest.json")
        if not os.path.isfile(manifest):
            raise InputError(f"{path}: not a cloud assembly (no manifest.json); run `cdk synth` or pass a template file")
        assembly = Assembly(root=path, source=path)
        _load_manifest(assembly, path, set(), os.path.realpath(path))
        if not assembly.stacks:
            raise InputError(f"{path}: the cloud assembly contains no CloudFormation stack")
        return assembly
    assembly = Assembly(root=os.path.dirname(os.path.abspath(path)), source=path)
    stem = os.path.basename(path).split(".")[0] or "Template"
    stack = _load_template(path, stem)
    stack.name_is_deployed = False
    assembly.stacks.append(stack)
    _load_nested(assembly, stack, os.path.realpath(assembly.root))
    return assembly


def from_template(template: Any, path: str) -> Assembly:
    """One template that another tool has decoded already (cfn-lint, for the rule pack that runs these
    rules inside it), modelled as `load(path)` models that template file: the same checks, transforms,
    stack name and nested stacks, so both give the same verdict."""
    assembly = Assembly(root=os.path.dirname(os.path.abspath(path)), source=path)
    stack = _stack_from(path, template, os.path.basename(path).split(".")[0] or "Template", is_yaml=True)
    stack.name_is_deployed = False
    assembly.stacks.append(stack)
    _load_nested(assembly, stack, os.path.realpath(assembly.root))
    return assembly


def _inside(root: str, directory: str, entry: str, where: str) -> str:
    """`directory/entry`, refused unless it resolves (symbolic links followed) inside `root`: a manifest
    must not make the validator read `/proc/self/status` or `../../secrets`."""
    path = os.path.join(directory, entry)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        raise InputError(f"{where}: {entry!r} resolves outside the assembly directory ({real})")
    return path


def _load_manifest(assembly: Assembly, directory: str, seen: set[str], root: str) -> None:
    real = os.path.realpath(directory)
    if real in seen:
        return
    seen.add(real)
    manifest_path = os.path.join(directory, "manifest.json")
    manifest = _read_json(manifest_path)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts", {}), dict):
        raise InputError(f"{manifest_path}: not a cloud assembly manifest (no 'artifacts' object)")
    artifacts = {key: value for key, value in (manifest.get("artifacts") or {}).items() if isinstance(value, dict)}
    for artifact_id, artifact in artifacts.items():
        properties = artifact.get("properties") or {}
        kind = artifact.get("type")
        if kind == "aws:cloudformation:stack":
            template_file = properties.get("templateFile")
            if not isinstance(template_file, str):
                raise InputError(f"{manifest_path}: artifact {artifact_id} names no templateFile")
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            where = f"{manifest_path}: artifact {artifact_id}: templateFile"
            stack = _load_template(_inside(root, directory, template_file, where), str(name))
            stack.account, stack.region = _environment(artifact.get("environment"))
            stack.depends_on, stack.asset_manifests = _dependencies(artifacts, artifact, directory, root,
                                                                    manifest_path)
            stack.construct_paths, stack.cdk_acknowledgements, stack.construct_traces = _construct_metadata(
                artifact, directory, root, f"{manifest_path}: artifact {artifact_id}")
            assembly.stacks.append(stack)
            _load_nested(assembly, stack, root)
        elif kind == "cdk:cloud-assembly":  # a Stage: its own assembly in a sub-directory
            sub = properties.get("directoryName")
            if not isinstance(sub, str):
                raise InputError(f"{manifest_path}: artifact {artifact_id} (a stage) names no directoryName")
            _load_manifest(assembly, _inside(root, directory, sub, f"{manifest_path}: artifact {artifact_id}: "
                                             "directoryName"), seen, root)


def _dependencies(artifacts: dict, artifact: dict, directory: str, root: str,
                  manifest_path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(stack names this stack depends on, paths of its asset manifests)."""
    stacks, asset_files = [], []
    for dependency in artifact.get("dependencies") or []:
        other = artifacts.get(dependency) if isinstance(dependency, str) else None
        if not isinstance(other, dict):
            continue
        properties = other.get("properties") or {}
        if other.get("type") == "aws:cloudformation:stack":
            stacks.append(str(properties.get("stackName") or other.get("displayName") or dependency))
        elif other.get("type") == "cdk:asset-manifest" and isinstance(properties.get("file"), str):
            asset_files.append(_inside(root, directory, properties["file"],
                                       f"{manifest_path}: artifact {dependency}: file"))
    return tuple(stacks), tuple(asset_files)


ACKNOWLEDGED_RULES = "aws:cdk:acknowledged-rules"  # cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY


def _construct_metadata(artifact: dict, directory: str, root: str, where: str) -> tuple[dict, list, dict]:
    """Logical ids' construct paths, the CDK acknowledgements recorded under a stack and logical ids'
    creation stack traces, from the manifest's inline metadata and the stack's `additionalMetadataFile`
    (where CDK 2 writes it). A trace is the `aws:cdk:creationStack` entry of the construct (CDK 2.1xx+)
    or the `trace` list of its `aws:cdk:logicalId` entry (earlier CDK 2)."""
    entries: dict = dict(artifact.get("metadata") or {}) if isinstance(artifact.get("metadata"), dict) else {}
    extra = artifact.get("additionalMetadataFile")
    if isinstance(extra, str):
        more = _read_json(_inside(root, directory, extra, f"{where}: additionalMetadataFile"))
        if isinstance(more, dict):
            entries.update(more)
    paths, acknowledged, traces = {}, [], {}
    for construct_path, items in entries.items():
        logical_id, trace = None, None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            if item.get("type") == "aws:cdk:logicalId" and isinstance(item.get("data"), str):
                logical_id = item["data"]
                paths[logical_id] = construct_path
                trace = trace or _strings(item.get("trace"))
            elif item.get("type") == "aws:cdk:creationStack":
                trace = _strings(item.get("data")) or trace
            elif item.get("type") == ACKNOWLEDGED_RULES and isinstance(item.get("data"), dict):
                acknowledged += [(construct_path, str(rule), reason) for rule, reason in item["data"].items()]
        if logical_id is not None and trace:
            traces[logical_id] = trace
    return paths, acknowledged, traces


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _environment(environment: Any) -> tuple[str | None, str | None]:
    """'aws://111122223333/eu-west-1' -> (account, region); unknown-* means env-agnostic."""
    if not isinstance(environment, str) or not environment.startswith("aws://"):
        return None, None
    account, _, region = environment[len("aws://"):].partition("/")
    return (None if account.startswith("unknown") else account,
            None if region.startswith("unknown") else region)


def _load_nested(assembly: Assembly, parent: Stack, root: str) -> None:
    """Nested stacks are assets next to the parent template, named in the resource metadata."""
    for logical_id, resource in parent.resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::CloudFormation::Stack":
            continue
        asset = (resource.get("Metadata") or {}).get("aws:asset:path")
        if not isinstance(asset, str):
            continue
        path = _inside(root, os.path.dirname(parent.template_file), asset,
                       f"{parent.template_file}: Resources/{logical_id}/Metadata/aws:asset:path")
        if not os.path.isfile(path):
            parent.unchecked.append((("Resources", logical_id),
                                     f"nested stack {logical_id}: its template {asset!r} is not in the assembly"))
            continue
        nested = _load_template(path, f"{parent.name}/{logical_id}")
        nested.account, nested.region = parent.account, parent.region
        nested.parent, nested.parent_resource = parent, logical_id
        nested.name_is_deployed = False   # CloudFormation names it <parent>-<logical id>-<random suffix>
        assembly.stacks.append(nested)
        _load_nested(assembly, nested, root)


def _read_json(path: str) -> Any:
    raw = _read_bounded(path)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (binary content)") from None
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None


def _read_bounded(path: str) -> bytes:
    """The file's bytes, from regular files only (not a FIFO, device or socket, which could block or
    never end), counting the limit on the bytes read rather than on what stat says."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"{path}: not a regular file ({_file_kind(mode)})")
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            raw = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read: {error.strerror}") from None
    finally:
        os.close(descriptor)
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise InputError(f"{path}: more than {MAX_TEMPLATE_BYTES // (1024 * 1024)} MB, too large for a "
                         "CloudFormation template (CloudFormation's own limit is 1 MB)")
    return raw


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def _load_template(path: str, name: str) -> Stack:
    raw = _read_bounded(path)
    if b"\x00" in raw[:8192]:
        raise InputError(f"{path}: not a text file (binary content)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (invalid UTF-8)") from None
    if not any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines()):
        raise InputError(f"{path}: empty template")   # nothing, whitespace, or YAML comments only
    is_yaml = not text.lstrip().startswith(("{", "["))
    scalar = _json_scalar(text) if is_yaml else None
    if scalar is not None:          # `null`, `42`, `"str"`: JSON, and not a template
        is_yaml, template = False, scalar[0]
    elif is_yaml:
        template_checks.refuse_deep_yaml(path, text)
        template = _decode_yaml(path)
    else:
        try:
            template = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{error.lineno}:{error.colno}: invalid JSON: {error.msg}") from None
        except RecursionError:
            raise InputError(f"{path}: nested more than {template_checks.MAX_NESTING} levels deep "
                             "(the validator's limit)") from None
    return _stack_from(path, template, name, is_yaml)


def _stack_from(path: str, template: Any, name: str, is_yaml: bool) -> Stack:
    """A decoded template, refused as `load` refuses it, with the transforms the validator expands applied."""
    template_checks.refuse_deep(path, template)
    if template is None:   # a YAML file of comments only, or `null`
        raise InputError(f"{path}: empty template")
    if not isinstance(template, dict):
        raise InputError(f"{path}: a template must be an object, got {kind_of(template)}")
    template, unchecked = transforms.apply(template, path)
    template_checks.check(path, template, unchecked)
    return Stack(name=name, template=template, template_file=os.path.abspath(path), is_yaml=is_yaml,
                 unchecked=unchecked)


def _json_scalar(text: str) -> tuple[Any] | None:
    """(value,) when the whole text is one JSON scalar (or null), else None."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return None if isinstance(value, (dict, list)) else (value,)


def _decode_yaml(path: str) -> Any:
    from cfnlint.decode.decode import decode

    template, matches = decode(path)
    if matches:
        match = matches[0]
        where = f":{match.linenumber}" if getattr(match, "linenumber", None) else ""
        message = str(getattr(match, "message", match)).splitlines()[0]
        raise InputError(f"{path}{where}: invalid template: {message}")
    return template


