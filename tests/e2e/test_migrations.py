"""bulkclaimsctl migrate: numbered files once, sql/functions/ every run.

Each function has one definition, in one file of sql/functions/; a
migrate run applies them again, so a changed definition reaches a
database that applied every numbered migration long ago.
"""
import os
import re
import subprocess

from sec_util import ctl_run, psql

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FUNCS = os.path.join(REPO, "sql", "functions")


def defined_functions():
    """Names of the functions sql/functions/*.sql define."""
    names = set()
    for f in sorted(os.listdir(FUNCS)):
        if f.endswith(".sql"):
            with open(os.path.join(FUNCS, f)) as fh:
                names.update(re.findall(
                    r"CREATE OR REPLACE FUNCTION (\w+)\(", fh.read()))
    return names


def test_every_function_file_defines_its_functions():
    names = defined_functions()
    assert {"job_store_results", "job_purge", "claim_action",
            "claim_ledger_store", "csv_rows_fill_duplicates"} <= names
    rows = psql("SELECT proname FROM pg_proc p JOIN pg_namespace n"
                " ON n.oid = p.pronamespace WHERE n.nspname = 'public'")
    present = {r[0] for r in rows}
    assert names - present == set()


def test_migrate_again_applies_no_migration_and_every_function():
    rc, out, err = ctl_run("migrate")
    assert rc == 0, err
    log = out + err
    assert "migrations done applied=0" in log
    n = len([f for f in os.listdir(FUNCS) if f.endswith(".sql")])
    assert f"functions applied files={n}" in log


def test_migrate_restores_a_changed_function():
    # job_running() decides which states a run may still change; a
    # database whose copy says otherwise gets the file's back.
    psql("CREATE OR REPLACE FUNCTION job_running(p_status text)"
         " RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT false $$")
    try:
        assert psql("SELECT job_running('PENDING')") == [["f"]]
    finally:
        rc, _, err = ctl_run("migrate")
    assert rc == 0, err
    assert psql("SELECT job_running('PENDING')") == [["t"]]


def test_duplicate_copy_trigger_exists_once():
    rows = psql("SELECT count(*) FROM pg_trigger WHERE tgname ="
                " 'csv_job_rows_fill_duplicates'")
    assert rows == [["1"]]


def test_only_the_owner_file_writes_jobs():
    out = subprocess.run(
        ["git", "grep", "--untracked", "-lE", r"UPDATE[[:space:]]+csv_jobs", "--",
         "*.c", "*.h", "*.sql"], cwd=REPO, capture_output=True,
        text=True).stdout.split()
    owners = [f for f in out if not f.startswith("tests/")]
    assert owners == ["sql/functions/job_state.sql"]
