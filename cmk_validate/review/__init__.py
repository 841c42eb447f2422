"""Policy review: who can reach the data and the keys, from where, and what a change opens up.

Built on the validator's template model (`cmk_validate.model`) and policy semantics
(`cmk_validate.policy`): the review evaluates concrete requests with `cmk_validate.policy.evaluate`
and adds only the parts IAM combines *across* policies (identity + resource + endpoint + key policy).

Modules, one responsibility each:
- `subjects`      what is reviewed in an assembly (data buckets, keys, gateway endpoints, roles, trail)
- `callers`       the "who" of the matrix (broad role, break-glass, other account, anonymous, services)
- `matrix`        the request matrix: one `Cell` per who x where x how x what
- `decide`        the decision of one cell, with the statement that decided it
- `expectations`  the expected outcome, the summary line and the contradicting cells
- `diff`          cells a change turns from denied to allowed (and back)
- `cost`          the cost estimate from `pricing.json`
- `layout`        the matrix as tables (rows who x where x TLS, columns what), shared by the outputs
- `markdown`, `html`, `diagram`   the outputs
- `report`        puts it together; `cli` is `cmk-validate review`
"""
