"""The request budget of the schemathesis run (tests/api/test_openapi_schemathesis.py).

The fuzz tests count every request they send with :func:`sent`; at the end of a pytest run that
ran the whole module (no ``-k``/``-m`` deselection, no ``::`` selection, nothing skipped), the hooks
in tests/conftest.py add the counts of all xdist workers and fail the run when the total is below
:data:`MINIMUM`. A configuration change that silently shrinks the fuzzing (fewer examples, an
operation filtered out, a database dropped) then fails ``make test`` instead of passing quietly.
"""

from __future__ import annotations

MODULE = "tests/api/test_openapi_schemathesis.py"
MINIMUM = 5000

requests = 0


def sent(count: int = 1) -> None:
    global requests
    requests += count
