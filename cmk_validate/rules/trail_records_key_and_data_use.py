"""CKE114: a multi-Region trail records every management event (KMS calls included) and every read and
write of the data buckets' objects.

What CloudTrail records is decided by the trail's selectors (CloudTrail User Guide, "Logging data events"
and "Logging management events"):
- no EventSelectors and no AdvancedEventSelectors: management events, read and write, no data events;
- EventSelectors: management events unless IncludeManagementEvents is false; S3 object events for each
  DataResources value of Type AWS::S3::Object: `arn:aws:s3` (or `arn:aws:s3:::`) for every bucket,
  `arn:aws:s3:::BUCKET/` for every object of BUCKET, a longer value for some objects only;
  ReadWriteType (default All) says which of reads and writes;
- AdvancedEventSelectors: eventCategory Management or Data; for S3 objects resources.type
  AWS::S3::Object and resources.ARN StartsWith a prefix; readOnly limits to reads or writes. A selector
  with any other field (an eventSource NotEquals kms.amazonaws.com, an eventName) records a part only,
  and is not counted as full coverage here.
"""

from __future__ import annotations

from cmk_validate.architecture import as_list
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

BOTH = frozenset({"read", "write"})
_READ_WRITE = {"All": BOTH, "ReadOnly": frozenset({"read"}), "WriteOnly": frozenset({"write"})}
_EVERY_BUCKET = ("arn:aws:s3", "arn:aws:s3:::")


class _Unknown(Exception):
    """A selector value only deploy time knows."""

    def __init__(self, path: tuple, reason: str) -> None:
        super().__init__(reason)
        self.path, self.reason = path, reason


class TrailRecordsKeyAndDataUse(Rule):
    id = "CKE114"
    title = "A multi-Region trail records management events and every read and write of the data buckets"
    rationale = ("Who used the HSM-backed key and who read or changed the data is answered only by CloudTrail: "
                 "KMS calls are management events, S3 object reads and writes are data events that a trail "
                 "records only when a selector names them, and a single-Region trail misses calls made in other "
                 "Regions. A selector that leaves out reads, writes or KMS's events leaves that question open.")
    fix = ("Set IsMultiRegionTrail: true, keep management events (no selector, or IncludeManagementEvents: true "
           "with ReadWriteType All), and add a data resource of Type AWS::S3::Object with the value "
           "arn:aws:s3:::<data bucket>/ and ReadWriteType All (CDK: trail.add_s3_event_selector("
           "[S3EventSelector(bucket=data_bucket)], read_write_type=ReadWriteType.ALL)).")
    source_url = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-data-events-with-cloudtrail.html"
    tags = ("audit", "logging", "cloudtrail")

    def check(self, ctx):
        trails = list(ctx.resources("AWS::CloudTrail::Trail"))
        if not trails:
            return  # CKE111 reports a missing trail, in the scope it applies to
        management, coverage, regional = [], {}, []
        for stack, lid, _ in trails:
            props = ctx.props(stack, lid)
            base = ("Resources", lid, "Properties")
            try:
                recorded = _recorded(props, base)
            except _Unknown as unknown:
                yield self.cannot_prove(stack, unknown.path, unknown.reason)
                continue
            multi_region = props.get("IsMultiRegionTrail")
            if isinstance(multi_region, Unresolved):
                yield self.cannot_prove(stack, base + ("IsMultiRegionTrail",), multi_region.reason)
                continue
            if multi_region not in (True, "true"):
                regional.append(lid)
                continue
            if recorded.management >= BOTH:
                management.append(lid)
            for prefix, kinds in recorded.objects:
                coverage[prefix] = coverage.get(prefix, frozenset()) | kinds
        first_stack, first_lid, _ = trails[0]
        where = ("Resources", first_lid, "Properties")
        if not management:
            yield self.finding(first_stack, where, "no multi-Region trail records every management event (KMS "
                               "calls among them), read and write" + _also(regional))
        for stack, lid, name in ctx.facts.data_buckets:
            if not isinstance(name, str):
                continue
            kinds = frozenset().union(*[covered for prefix, covered in coverage.items()
                                        if _covers_bucket(prefix, name)])
            missing = sorted(BOTH - kinds)
            if missing:
                yield self.finding(first_stack, where,
                                   f"no multi-Region trail records {' and '.join(missing)} events of every object "
                                   f"in data bucket {lid} ({name}) as S3 data events" + _also(regional))


class _Recorded:
    def __init__(self) -> None:
        self.management: frozenset = frozenset()
        self.objects: list[tuple[str, frozenset]] = []   # (ARN prefix, {"read", "write"})


def _recorded(props: dict, base: tuple) -> _Recorded:
    recorded = _Recorded()
    selectors, advanced = props.get("EventSelectors"), props.get("AdvancedEventSelectors")
    for name, value in (("EventSelectors", selectors), ("AdvancedEventSelectors", advanced)):
        if isinstance(value, Unresolved):
            raise _Unknown(base + (name,), value.reason)
    if not selectors and not advanced:
        recorded.management = BOTH
        return recorded
    for index, selector in enumerate(as_list(selectors)):
        path = base + ("EventSelectors", index)
        if not isinstance(selector, dict):
            raise _Unknown(path, "an event selector that is not an object")
        kinds = _READ_WRITE.get(_known(selector.get("ReadWriteType", "All"), path + ("ReadWriteType",)), frozenset())
        if _known(selector.get("IncludeManagementEvents", True), path + ("IncludeManagementEvents",)) not in (False, "false"):
            recorded.management |= kinds
        for number, resource in enumerate(as_list(selector.get("DataResources"))):
            resource_path = path + ("DataResources", number)
            if not isinstance(resource, dict) or _known(resource.get("Type"), resource_path + ("Type",)) != "AWS::S3::Object":
                continue
            for value in as_list(_known(resource.get("Values"), resource_path + ("Values",))):
                recorded.objects.append((_known(value, resource_path + ("Values",)), kinds))
    for index, selector in enumerate(as_list(advanced)):
        path = base + ("AdvancedEventSelectors", index)
        fields = {}
        for field in as_list(selector.get("FieldSelectors") if isinstance(selector, dict) else None):
            if not isinstance(field, dict):
                raise _Unknown(path, "a field selector that is not an object")
            fields[_known(field.get("Field"), path + ("FieldSelectors",))] = {
                key: [_known(item, path + ("FieldSelectors",)) for item in as_list(_known(values, path))]
                for key, values in field.items() if key != "Field"}
        kinds = _read_only(fields.pop("readOnly", None))
        category = fields.pop("eventCategory", {})
        if category == {"Equals": ["Management"]} and not fields:
            recorded.management |= kinds
        elif category == {"Equals": ["Data"]} and fields.pop("resources.type", None) == {"Equals": ["AWS::S3::Object"]}:
            arn = fields.pop("resources.ARN", {"StartsWith": ["arn:aws:s3"]})
            if not fields and set(arn) == {"StartsWith"}:
                recorded.objects += [(prefix, kinds) for prefix in arn["StartsWith"]]
    return recorded


def _read_only(condition: dict | None) -> frozenset:
    if condition is None:
        return BOTH
    if condition == {"Equals": ["true"]}:
        return frozenset({"read"})
    if condition == {"Equals": ["false"]}:
        return frozenset({"write"})
    return frozenset()


def _known(value, path: tuple):
    if isinstance(value, Unresolved):
        raise _Unknown(path, value.reason)
    return value


def _covers_bucket(prefix, bucket: str) -> bool:
    """Whether a data resource value or ARN prefix takes in every object of `bucket`."""
    if not isinstance(prefix, str):
        return False
    whole = f"arn:aws:s3:::{bucket}/"
    return prefix in _EVERY_BUCKET or (whole.startswith(prefix) and prefix.startswith("arn:aws:s3:::"))


def _also(regional: list[str]) -> str:
    return f" (trail {', '.join(regional)} records one Region only)" if regional else ""
