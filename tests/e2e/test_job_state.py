"""sql/functions/job_state.sql: every transition of a job, allowed and refused,
at the one place that makes it.  Each case builds its job in the source
state, calls the SQL function and reads the job back, all in one
transaction that it rolls back: nothing is left behind, and no worker or
watchdog ever sees the fixture.
"""
import json
import uuid

import pytest

from sec_util import psql

STATES = ("PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLING",
          "CANCELLED")
RUNNING = ("PENDING", "PROCESSING", "CANCELLING")
FINISHED = ("COMPLETED", "FAILED", "CANCELLED")
OLD = "now() - interval '1 hour'"
NODE = "job-state-test/1"

_owner = []


def owner():
    """(organization_id, user_id) of a user of the test database."""
    if not _owner:
        rows = psql("SELECT organization_id, id FROM users ORDER BY id"
                    " LIMIT 1")
        assert rows, "no user in the test database"
        _owner.extend(rows[0])
    return _owner


def fixture_sql(job, status, beat="now()", rows=(), **cols):
    """SQL creating job in status with a heartbeat (an SQL expression or
    None), extra column values (SQL expressions) and rows given as
    (row_number, success) pairs (success None: no result yet)."""
    org, user = owner()
    names = ["id", "organization_id", "user_id", "filename", "status",
             "worker_node", "worker_heartbeat_at", "started_at"]
    values = [f"'{job}'", org, user, "'state.csv'", f"'{status}'",
              f"'{NODE}'", beat or "NULL",
              "NULL" if status == "PENDING" else OLD]
    for k, v in cols.items():
        names.append(k)
        values.append(str(v))
    sql = "INSERT INTO csv_jobs (%s) VALUES (%s);\n" % (
        ", ".join(names), ", ".join(values))
    for n, ok in rows:
        res = "NULL" if ok is None else ("true" if ok else "false")
        st = "NULL" if ok is None else ("'Paid'" if ok else "'Error'")
        sql += ("INSERT INTO csv_job_rows (job_id, row_number, claim_number,"
                f" success, status) VALUES ('{job}', {n}, 'C{n}', {res},"
                f" {st});\n")
    return sql


def run(fixture, call):
    """Runs fixture, then call (a query), then reads the job back, in a
    transaction rolled back.  Returns (rows of call as dicts, the job as a
    dict or None when gone)."""
    job = run.job
    out = psql("BEGIN;\n" + fixture +
               f"SELECT 'C', row_to_json(t) FROM ({call}) t;\n"
               "SELECT 'J', row_to_json(j) FROM (SELECT * FROM csv_jobs"
               f" WHERE id = '{job}') j;\n"
               "ROLLBACK;\n")
    got = [json.loads(r[1]) for r in out if r[0] == "C"]
    rows = [json.loads(r[1]) for r in out if r[0] == "J"]
    return got, (rows[0] if rows else None)


@pytest.fixture(autouse=True)
def job_id():
    run.job = str(uuid.uuid4())
    return run.job


def one(got):
    assert len(got) == 1, got
    return list(got[0].values())[0]


# --- claim -------------------------------------------------------------

@pytest.mark.parametrize("status,beat", [
    ("PENDING", None), ("PROCESSING", None), ("PROCESSING", OLD)])
def test_claim_allowed(job_id, status, beat):
    got, j = run(fixture_sql(job_id, status, beat=beat),
                 f"SELECT * FROM job_claim('{job_id}', 't1', 'n/2', 120)")
    assert len(got) == 1 and got[0]["provider_code"] == "UHC", got
    assert j["status"] == "PROCESSING"
    assert j["celery_task_id"] == "t1" and j["worker_node"] == "n/2"
    assert j["worker_heartbeat_at"] is not None
    assert j["started_at"] is not None


@pytest.mark.parametrize("status", [s for s in STATES if s != "PENDING"])
def test_claim_refused(job_id, status):
    # PROCESSING with a fresh heartbeat: another live run holds it.
    got, j = run(fixture_sql(job_id, status),
                 f"SELECT * FROM job_claim('{job_id}', 't1', 'n/2', 120)")
    assert got == []
    assert j["status"] == status and j["worker_node"] == NODE


# --- intake ------------------------------------------------------------

@pytest.mark.parametrize("status", STATES)
def test_intake_done(job_id, status):
    got, j = run(fixture_sql(job_id, status),
                 f"SELECT job_intake_done('{job_id}', 10, 3,"
                 " '[[\"a\", null]]')")
    applied = status == "PENDING"
    assert one(got) is applied
    assert j["total_rows"] == (10 if applied else 0)
    assert j["processed_rows"] == j["failure_count"] == (3 if applied
                                                         else 0)


@pytest.mark.parametrize("status", STATES)
def test_discard(job_id, status):
    got, j = run(fixture_sql(job_id, status, rows=[(1, None)]),
                 f"SELECT job_discard('{job_id}')")
    assert one(got) is (status == "PENDING")
    assert (j is None) is (status == "PENDING")


def test_create_is_pending(job_id):
    org, user = owner()
    got, j = run("", f"SELECT job_create('{job_id}', {org}, {user},"
                 " 'f.csv', 't0', '\\x00'::bytea)")
    assert j["status"] == "PENDING" and j["celery_task_id"] == "t0"


# --- results and counters ----------------------------------------------

RESULTS = json.dumps([
    {"row_number": 1, "status": "Paid", "success": True, "attempts": 1},
    {"row_number": 2, "status": "Error", "success": False, "attempts": 2},
    {"row_number": 3, "status": "Paid", "success": True, "attempts": 1}])


@pytest.mark.parametrize("status", ["PROCESSING", "CANCELLING"])
def test_store_results_counts_new_results_once(job_id, status):
    # Row 3 has a result already: neither stored again nor counted.
    fx = fixture_sql(job_id, status, rows=[(1, None), (2, None), (3, True)],
                     processed_rows=1, success_count=1)
    got, j = run(fx, f"SELECT job_store_results('{job_id}', '{RESULTS}',"
                 " true)")
    assert one(got) == status
    assert (j["processed_rows"], j["success_count"], j["failure_count"]) \
        == (3, 2, 1)
    assert j["waiting_for_payer"] is True


def test_store_results_of_a_gone_job(job_id):
    got, _ = run("", f"SELECT job_store_results('{job_id}', '{RESULTS}',"
                 " false)")
    assert one(got) is None


def test_count_results_adds_the_keys_given(job_id):
    fx = fixture_sql(job_id, "PROCESSING", beat=OLD, processed_rows=5,
                     success_count=4, failure_count=1)
    got, j = run(fx,
                 f"SELECT job_count_results('{job_id}',"
                 " '{\"processed_rows\": 2, \"failure_count\": 2}')")
    assert one(got) == "PROCESSING"
    assert (j["processed_rows"], j["success_count"], j["failure_count"]) \
        == (7, 4, 3)
    # Counters only: no heartbeat unless a run reports.
    assert j["waiting_for_payer"] is False


def test_duplicate_rows_counted_through_the_owner(job_id):
    fx = fixture_sql(job_id, "PROCESSING", rows=[(1, None), (2, None)])
    fx += (f"UPDATE csv_job_rows SET has_duplicates = true WHERE job_id ="
           f" '{job_id}' AND row_number = 1;\n"
           f"UPDATE csv_job_rows SET duplicate_of = 1 WHERE job_id ="
           f" '{job_id}' AND row_number = 2;\n"
           "SET CONSTRAINTS csv_job_rows_fill_duplicates IMMEDIATE;\n")
    one_row = json.dumps([{"row_number": 1, "status": "Paid",
                           "success": True, "attempts": 1}])
    got, j = run(fx, f"SELECT job_store_results('{job_id}', '{one_row}',"
                 " false)")
    assert (j["processed_rows"], j["success_count"]) == (2, 2)


# --- heartbeats and release --------------------------------------------

@pytest.mark.parametrize("status", STATES)
def test_heartbeat_reports_status(job_id, status):
    got, j = run(fixture_sql(job_id, status, beat=None),
                 f"SELECT job_heartbeat('{job_id}', true)")
    assert one(got) == status
    assert j["worker_heartbeat_at"] is not None and j["waiting_for_payer"]


@pytest.mark.parametrize("status", STATES)
def test_heartbeat_tasks(job_id, status):
    got, j = run(fixture_sql(job_id, status, beat=None,
                             celery_task_id="'hb-task'"),
                 "SELECT job_heartbeat_tasks(ARRAY['hb-task'])")
    applied = status in ("PROCESSING", "CANCELLING")
    assert (j["worker_heartbeat_at"] is not None) is applied


@pytest.mark.parametrize("status", STATES)
def test_release(job_id, status):
    got, j = run(fixture_sql(job_id, status),
                 f"SELECT job_release('{job_id}')")
    applied = status == "PROCESSING"
    assert one(got) is applied
    assert (j["worker_heartbeat_at"] is None) is applied
    assert (j["worker_node"] is None) is applied


# --- chunks ------------------------------------------------------------

@pytest.mark.parametrize("status", STATES)
def test_plan_chunks(job_id, status):
    rows = [(n, True if n == 2 else None) for n in range(1, 6)]
    got, j = run(fixture_sql(job_id, status, rows=rows),
                 f"SELECT * FROM job_plan_chunks('{job_id}', 2)")
    if status == "PROCESSING":
        assert [(c["first_row"], c["last_row"]) for c in got] == \
            [(1, 3), (4, 5)]
        assert (j["chunks_total"], j["chunks_done"]) == (2, 0)
        assert j["worker_node"] is None
    else:
        assert got == [] and j["chunks_total"] == 0


def test_plan_chunks_inline_forgets_a_split(job_id):
    fx = fixture_sql(job_id, "PROCESSING", rows=[(1, None)],
                     chunks_total=3, chunks_done=1)
    fx += (f"INSERT INTO csv_job_chunks (job_id, first_row, last_row)"
           f" VALUES ('{job_id}', 1, 1);\n")
    got, j = run(fx, f"SELECT * FROM job_plan_chunks('{job_id}', 0)")
    assert got == [] and (j["chunks_total"], j["chunks_done"]) == (0, 0)


def chunks_sql(job_id, n):
    return "".join(f"INSERT INTO csv_job_chunks (job_id, first_row,"
                   f" last_row) VALUES ('{job_id}', {i}, {i});\n"
                   for i in range(1, n + 1))


def test_chunk_start_and_done(job_id):
    fx = fixture_sql(job_id, "PROCESSING", chunks_total=2) + \
        chunks_sql(job_id, 2)
    got, j = run(fx + f"SELECT job_chunk_start('{job_id}', 1, 1);\n",
                 f"SELECT * FROM job_chunk_done('{job_id}', 1, 1, 'w1')")
    assert got == [{"last_chunk": False, "status": "PROCESSING"}]
    assert j["chunks_done"] == 1
    # The last chunk says so; a chunk delivered again counts nothing.
    fx += f"SELECT * FROM job_chunk_done('{job_id}', 1, 1, 'w1');\n"
    got, j = run(fx, f"SELECT * FROM job_chunk_done('{job_id}', 2, 2,"
                 " 'w1')")
    assert got == [{"last_chunk": True, "status": "PROCESSING"}]
    got, j = run(fx, f"SELECT * FROM job_chunk_done('{job_id}', 1, 1,"
                 " 'w1')")
    assert got == [] and j["chunks_done"] == 1


def test_chunk_of_another_split_is_not_counted(job_id):
    fx = fixture_sql(job_id, "PROCESSING", chunks_total=1) + \
        chunks_sql(job_id, 1)
    got, j = run(fx, f"SELECT * FROM job_chunk_done('{job_id}', 7, 9, 'w')")
    assert got == [] and j["chunks_done"] == 0


# --- finish, fail --------------------------------------------------------

@pytest.mark.parametrize("status", STATES)
def test_finish(job_id, status):
    got, j = run(fixture_sql(job_id, status, rows=[(1, True)]),
                 f"SELECT job_finish('{job_id}')")
    applied = status == "PROCESSING"
    assert one(got) is applied
    assert j["status"] == ("COMPLETED" if applied else status)
    assert (j["completed_at"] is not None) is applied


def test_finish_refused_while_rows_are_left(job_id):
    got, j = run(fixture_sql(job_id, "PROCESSING",
                             rows=[(1, True), (2, None)]),
                 f"SELECT job_finish('{job_id}')")
    assert one(got) is False and j["status"] == "PROCESSING"


@pytest.mark.parametrize("status", STATES)
def test_fail(job_id, status):
    got, j = run(fixture_sql(job_id, status),
                 f"SELECT job_fail('{job_id}', 'no payer')")
    applied = status in ("PENDING", "PROCESSING")
    assert one(got) is applied
    assert j["status"] == ("FAILED" if applied else status)
    assert (j["error_message"] == "no payer") is applied


def test_fail_of_another_task_refused(job_id):
    fx = fixture_sql(job_id, "PENDING", celery_task_id="'new'")
    got, j = run(fx, f"SELECT job_fail('{job_id}', 'x', 'old')")
    assert one(got) is False and j["status"] == "PENDING"
    got, j = run(fx, f"SELECT job_fail('{job_id}', 'x', 'new')")
    assert one(got) is True and j["status"] == "FAILED"


# --- the watchdog --------------------------------------------------------

def ids(got):
    return [list(g.values())[0] for g in got]


@pytest.mark.parametrize("status,beat,requeues,applied", [
    ("PROCESSING", OLD, 5, True), ("PROCESSING", OLD, 4, False),
    ("PROCESSING", "now()", 5, False), ("CANCELLING", OLD, 5, False),
    ("PENDING", OLD, 5, False)])
def test_fail_lost(job_id, status, beat, requeues, applied):
    got, j = run(fixture_sql(job_id, status, beat=beat,
                             watchdog_requeues=requeues),
                 "SELECT * FROM job_fail_lost(120, 5)")
    assert (job_id in ids(got)) is applied
    assert j["status"] == ("FAILED" if applied else status)


@pytest.mark.parametrize("status,beat,requeues,applied", [
    ("PROCESSING", OLD, 0, True), ("PROCESSING", OLD, 5, False),
    ("PROCESSING", "now()", 0, False), ("CANCELLING", OLD, 0, False),
    ("COMPLETED", OLD, 0, False)])
def test_requeue(job_id, status, beat, requeues, applied):
    got, j = run(fixture_sql(job_id, status, beat=beat,
                             watchdog_requeues=requeues),
                 "SELECT * FROM job_requeue(120, 5)")
    assert (job_id in ids(got)) is applied
    assert j["status"] == ("PENDING" if applied else status)
    assert j["watchdog_requeues"] == requeues + (1 if applied else 0)


@pytest.mark.parametrize("status,task,node,applied", [
    ("PROCESSING", "gone", NODE, True),
    ("PROCESSING", "running", NODE, False),
    ("PROCESSING", "gone", "other/1", False),
    ("CANCELLING", "gone", NODE, False)])
def test_requeue_orphans(job_id, status, task, node, applied):
    fx = fixture_sql(job_id, status, beat=OLD, celery_task_id=f"'{task}'")
    got, j = run(fx, f"SELECT * FROM job_requeue_orphans('{node}',"
                 " ARRAY['running'], 15, 5)")
    assert (job_id in ids(got)) is applied
    assert j["status"] == ("PENDING" if applied else status)


@pytest.mark.parametrize("status,beat,applied", [
    ("CANCELLING", OLD, True), ("CANCELLING", "now()", False),
    ("PROCESSING", OLD, False)])
def test_cancel_orphans(job_id, status, beat, applied):
    got, j = run(fixture_sql(job_id, status, beat=beat),
                 "SELECT * FROM job_cancel_orphans(120)")
    assert (job_id in ids(got)) is applied
    assert j["status"] == ("CANCELLED" if applied else status)


# --- cancel ----------------------------------------------------------------

@pytest.mark.parametrize("status,beat,applied,after", [
    ("PENDING", None, True, "CANCELLED"),
    ("PROCESSING", "now()", True, "CANCELLING"),
    ("PROCESSING", OLD, True, "CANCELLED"),
    ("CANCELLING", "now()", True, "CANCELLING"),
    ("CANCELLING", OLD, True, "CANCELLED"),
    ("COMPLETED", None, False, "COMPLETED"),
    ("FAILED", None, False, "FAILED"),
    ("CANCELLED", None, False, "CANCELLED")])
def test_cancel(job_id, status, beat, applied, after):
    org = owner()[0]
    got, j = run(fixture_sql(job_id, status, beat=beat),
                 f"SELECT * FROM job_cancel('{job_id}', {org}, 120)")
    assert got == [{"applied": applied, "status": after}]
    assert j["status"] == after
    assert (j["cancel_requested_at"] is not None) is applied


def test_cancel_of_another_organisation(job_id):
    got, j = run(fixture_sql(job_id, "PENDING"),
                 f"SELECT * FROM job_cancel('{job_id}', -1, 120)")
    assert got == [] and j["status"] == "PENDING"


@pytest.mark.parametrize("status", STATES)
def test_cancelled(job_id, status):
    got, j = run(fixture_sql(job_id, status),
                 f"SELECT job_cancelled('{job_id}')")
    applied = status == "CANCELLING"
    assert one(got) is applied
    assert j["status"] == ("CANCELLED" if applied else status)


# --- retry ---------------------------------------------------------------

@pytest.mark.parametrize("status", STATES)
def test_retry(job_id, status):
    org = owner()[0]
    rows = [(1, True), (2, False), (3, None)]
    got, j = run(fixture_sql(job_id, status, rows=rows, processed_rows=2,
                             success_count=1, failure_count=1,
                             completed_at="now()"),
                 f"SELECT * FROM job_retry('{job_id}', {org}, 'r1')")
    if status in RUNNING:
        assert got == [{"result": "running", "todo": 0}]
        assert j["status"] == status
        return
    # The failed row is open again; the counters are recounted.
    assert got == [{"result": "retried", "todo": 2}]
    assert j["status"] == "PENDING" and j["celery_task_id"] == "r1"
    assert j["completed_at"] is None
    assert (j["processed_rows"], j["success_count"], j["failure_count"]) \
        == (1, 1, 0)


def test_retry_refused_without_failed_rows(job_id):
    org = owner()[0]
    fx = fixture_sql(job_id, "COMPLETED", rows=[(1, True)])
    # An 'Invalid' row (refused at upload) would fail again.
    fx += (f"INSERT INTO csv_job_rows (job_id, row_number, success, status)"
           f" VALUES ('{job_id}', 2, false, 'Invalid');\n")
    got, j = run(fx, f"SELECT * FROM job_retry('{job_id}', {org}, 'r1')")
    assert got == [{"result": "nothing_to_retry", "todo": 0}]
    assert j["status"] == "COMPLETED"


def test_retry_of_another_organisation(job_id):
    got, j = run(fixture_sql(job_id, "FAILED"),
                 f"SELECT * FROM job_retry('{job_id}', -1, 'r1')")
    assert got == [{"result": "not_found", "todo": 0}]
    assert j["status"] == "FAILED"


# --- notifications, purge --------------------------------------------------

@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("channel", ["email", "webhook"])
def test_mark_notified(job_id, status, channel):
    got, j = run(fixture_sql(job_id, status),
                 f"SELECT job_mark_notified('{job_id}', '{channel}')")
    applied = status in ("COMPLETED", "FAILED")
    assert one(got) is applied
    assert (j[f"{channel}_sent_at"] is not None) is applied


def test_mark_notified_unknown_channel(job_id):
    with pytest.raises(RuntimeError) as e:
        run(fixture_sql(job_id, "COMPLETED"),
            f"SELECT job_mark_notified('{job_id}', 'fax')")
    assert "channel fax" in str(e.value)


@pytest.mark.parametrize("status", STATES)
@pytest.mark.parametrize("force", [False, True])
def test_purge(job_id, status, force):
    got, j = run(fixture_sql(job_id, status, rows=[(1, True)]),
                 f"SELECT job_purge('{job_id}', NULL, {force})")
    applied = force or status in FINISHED
    assert one(got) == ("purged" if applied else "running")
    assert (j["purged_at"] is not None) is applied


def test_purge_twice_and_unknown(job_id):
    fx = fixture_sql(job_id, "COMPLETED") + \
        f"SELECT job_purge('{job_id}', NULL, false);\n"
    got, _ = run(fx, f"SELECT job_purge('{job_id}', NULL, false)")
    assert one(got) == "already_purged"
    got, _ = run("", f"SELECT job_purge('{job_id}', NULL, false)")
    assert one(got) == "not_found"
