"""`python -m validators [PATH]` checks invariants; `python -m validators review ...` runs the policy review."""

import sys

if sys.argv[1:2] == ["review"]:
    from validators.review.cli import main as review_main

    sys.exit(review_main(sys.argv[2:]))

from validators.cli import main  # noqa: E402

sys.exit(main())
