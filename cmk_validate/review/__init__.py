"""Policy review: who can reach the data and the keys, from where, and what a change opens up.

Built on the validator's template model (`cmk_validate.model`) and policy semantics
(`cmk_validate.policy`): each cell is proved over every request it stands for with the prover's z3
encoding (`cmk_validate.policy.prover.Encoder`), and the statements that decide it are named by
evaluating one request with `cmk_validate.policy.evaluate`; the review adds only the parts IAM combines
*across* policies (identity + resource + endpoint + key policy).

Modules, one responsibility each:
- `subjects`      what is reviewed in an assembly (data buckets, keys, gateway endpoints, roles, trail)
- `callers`       the "who" of the matrix (broad role, break-glass, other account, anonymous, services)
- `matrix`        the request matrix: one `Cell` per who x where x how x what
- `symbolic`      a cell's requests and IAM's combination of policies as z3 formulas: verdict and witness
- `decide`        the decision of one cell, with the statement that decided it
- `expectations`  the expected outcome, the summary line and the contradicting cells
- `diff`          per cell, a request a change allows that the base did not (and cells it closes)
- `cost`          the cost estimate from `pricing.json`
- `layout`        the matrix as tables (rows who x where x TLS, columns what), shared by the outputs
- `markdown`, `html`, `diagram`   the outputs
- `report`        puts it together; `cli` is `cmk-validate review`
"""
