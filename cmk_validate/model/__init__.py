"""Template model: every stack of a cloud assembly, with intrinsics resolved where they can be.

Reused by the policy review: `load(path)` gives an `Assembly`; `Resolver` turns
template values into plain Python values, with `Unresolved` where a value is only known at
deploy time.
"""

from cmk_validate.model.assembly import Assembly, Stack, load
from cmk_validate.model.resolver import NO_VALUE, Resolver, Unresolved, is_symbolic

__all__ = ["Assembly", "Stack", "load", "Resolver", "Unresolved", "NO_VALUE", "is_symbolic"]
