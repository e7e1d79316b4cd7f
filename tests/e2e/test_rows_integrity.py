"""sql/006: csv_job_rows has no per-row foreign key any more (it doubled
the upload's COPY); a statement-level check and a delete trigger keep
the same guarantees.  Each test works in a transaction it rolls back,
except the delete test, which deletes a job it uploaded for that.
"""
import uuid

import pytest

from sec_util import phi_csv, psql

GHOST = str(uuid.UUID(int=7))


def test_row_of_a_missing_job_is_refused():
    with pytest.raises(RuntimeError) as e:
        psql("INSERT INTO csv_job_rows (job_id, row_number)"
             " VALUES (:'v1', 1)", GHOST)
    assert "csv_job_rows: job %s does not exist" % GHOST in str(e.value)
    assert psql("SELECT count(*) FROM csv_job_rows WHERE job_id = :'v1'",
                GHOST) == [["0"]]


def test_copy_with_one_bad_job_is_refused_whole(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    with pytest.raises(RuntimeError) as e:
        psql("INSERT INTO csv_job_rows (job_id, row_number)"
             " VALUES (:'v1', 100001), (:'v2', 1)", job, GHOST)
    assert "does not exist" in str(e.value)
    assert psql("SELECT count(*) FROM csv_job_rows WHERE job_id = :'v1'"
                " AND row_number = 100001", job) == [["0"]]


def test_row_cannot_move_to_another_job(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    with pytest.raises(RuntimeError) as e:
        psql("UPDATE csv_job_rows SET job_id = :'v2' WHERE job_id = :'v1'",
             job, GHOST)
    assert "job_id cannot change" in str(e.value)


def test_deleting_a_job_deletes_its_rows(api):
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    job = r.json()["id"]
    api.wait_done(job)
    assert int(psql("SELECT count(*) FROM csv_job_rows WHERE job_id ="
                    " :'v1'", job)[0][0]) == 3
    psql("DELETE FROM csv_jobs WHERE id = :'v1'", job)
    assert psql("SELECT count(*) FROM csv_job_rows WHERE job_id = :'v1'",
                job) == [["0"]]
