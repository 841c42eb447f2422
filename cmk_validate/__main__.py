"""`python -m cmk_validate ...` is the `cmk-validate` command."""

import sys

from cmk_validate.cli import main

sys.exit(main())
