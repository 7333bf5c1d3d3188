"""Each function that serves only safe methods holds a reads-only database (autocommit
reads on MySQL, no unit of work that writes: app.platform.db.AUTOCOMMIT_READS); every
other function can write."""

from __future__ import annotations

import pytest

from app.platform.db import ReadsOnly
from tests.support.functions import FUNCTIONS, REGISTRY, Function, import_function


def _reads_only(function: Function) -> bool:
    [declared] = [f for f in (*REGISTRY.switched, *REGISTRY.shadowed) if f.name == function.logical]
    return declared.reads_only


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_a_function_reads_only_when_all_its_routes_are_safe(function: Function) -> None:
    database = import_function(function.name).runtime.database
    assert database.reads_only is _reads_only(function)


def test_there_are_functions_of_both_kinds() -> None:
    assert {_reads_only(function) for function in FUNCTIONS} == {True, False}


def test_a_reads_only_database_refuses_a_unit_of_work_that_writes() -> None:
    reader = next(function for function in FUNCTIONS if _reads_only(function))
    database = import_function(reader.name).runtime.database
    with pytest.raises(ReadsOnly), database.core_transaction():
        pass
