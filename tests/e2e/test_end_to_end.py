"""The whole path: upload through nginx, the worker asks the simulator,
results downloaded and compared with the simulator's documented outcome."""
import csv
import io
import random
import time

from conftest import HEADER, RESULT_HEADER, explain


def parse_results(text):
    lines = text.splitlines()
    assert lines[0] == RESULT_HEADER
    return list(csv.DictReader(io.StringIO(text)))


def expected_row(row_no, claim, first, last):
    e = explain(claim, first, last)
    return {
        "row": str(row_no), "claim_number": claim, "status": e["status"],
        "patient_name": e["patient_name"],
        "total_charged": e["total_charged"], "total_paid": e["total_paid"],
        "processed_date": e["processed_date"],
        "success": "true" if e["success"] else "false",
        "error_message": e["error_message"],
    }


def run_job(api, content, name="claims.csv"):
    t0 = time.time()
    r = api.upload(content, filename=name)
    upload_s = time.time() - t0
    assert r.status_code == 201, r.text
    job = r.json()
    assert set(job) >= {"id", "status", "celery_task_id", "filename",
                        "total_rows"}
    assert job["status"] == "PENDING"
    assert job["filename"] == name
    p = api.wait_done(job["id"])
    return job, p, upload_s, time.time() - t0


def test_seed_example_two_rows(api):
    content = (HEADER + "ZE59426195,John,Doe,1980-01-15,ABC123456\n"
               "ZE59426196,Jane,Smith,1975-06-30,XYZ987654\n")
    job, p, _, _ = run_job(api, content)
    assert job["total_rows"] == 2
    assert p["status"] == "COMPLETED"
    assert p["processed_rows"] == 2
    assert p["success_count"] + p["failure_count"] == 2
    assert p["progress_percentage"] == 100
    r = api.get(f"claims/csv-jobs/{job['id']}/results/")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in r.headers["Content-Disposition"]
    rows = parse_results(r.text)
    assert rows == [expected_row(1, "ZE59426195", "John", "Doe"),
                    expected_row(2, "ZE59426196", "Jane", "Smith")]
    detail = api.get(f"claims/csv-jobs/{job['id']}/").json()
    assert detail["id"] == job["id"]
    assert detail["status"] == "COMPLETED"
    assert detail["celery_task_id"] == job["celery_task_id"]
    for k in ("created_at", "started_at", "completed_at",
              "processing_duration"):
        assert detail[k], k


def test_thousand_rows(api):
    rnd = random.Random(1000)
    rows = []
    for i in range(1000):
        claim = "ZE%08d" % rnd.randrange(10**8)
        rows.append((claim, "First%d" % i, "Last%d" % i,
                     "19%02d-%02d-%02d" % (rnd.randrange(30, 99),
                                            rnd.randrange(1, 13),
                                            rnd.randrange(1, 29)),
                     "SUB%06d" % i))
    content = HEADER + "".join(",".join(r) + "\n" for r in rows)
    job, p, upload_s, total_s = run_job(api, content, "thousand.csv")
    print(f"\n1000-row job: upload {upload_s:.3f}s, done in {total_s:.2f}s")
    assert job["total_rows"] == 1000
    assert p["status"] == "COMPLETED"
    assert p["processed_rows"] == 1000
    assert p["success_count"] + p["failure_count"] == 1000
    got = parse_results(api.get(f"claims/csv-jobs/{job['id']}/results/").text)
    assert len(got) == 1000
    want = [expected_row(i + 1, r[0], r[1], r[2]) for i, r in enumerate(rows)]
    assert got == want
    assert sum(1 for g in got if g["success"] == "true") == p["success_count"]


def test_job_list_and_filter(api):
    r = api.get("claims/csv-jobs/")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] >= 1
    created = [j["created_at"] for j in body["results"]]
    assert created == sorted(created, reverse=True)
    r = api.get("claims/csv-jobs/", params={"status": "COMPLETED"})
    assert r.status_code == 200
    assert all(j["status"] == "COMPLETED" for j in r.json()["results"])
