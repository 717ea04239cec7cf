"""Session-wide test settings, read before any test module imports scipy."""

import os

# scikit-learn's conformance suite checks that array-API dispatch with NumPy inputs leaves
# results unchanged only when scipy runs in array-API mode, which must be chosen before
# scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")
