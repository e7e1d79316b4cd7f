"""Key rotation: `bulkclaimsctl rotate-key --new-key-file F` re-encrypts
every payer secret under the new key in one transaction and swaps the key
file; the worker then still reaches the payer (it reads the key per job).
"""
import os

from sec_util import audit_rows, config_value, ctl_run, phi_csv, psql


def secrets_state():
    return dict((r[0], (r[1], r[2])) for r in psql(
        "SELECT id, encode(client_secret_enc, 'hex'), key_id"
        " FROM payer_credentials"))


def test_rotate_key(api, tmp_path):
    keyfile = config_value("secrets.key_file")
    assert keyfile and os.path.exists(keyfile)
    old_key = open(keyfile).read().strip()
    st = os.stat(keyfile)
    before = secrets_state()
    assert before, "the demo data has payer credentials"

    # The current key as the "new" one: refused, nothing changes.
    same = tmp_path / "same.key"
    same.write_text(old_key + "\n")
    rc, _, err = ctl_run("rotate-key", "--new-key-file", str(same))
    assert rc != 0 and "current key" in err
    assert secrets_state() == before

    newfile = tmp_path / "new.key"
    rc, _, err = ctl_run("rotate-key", "--new-key-file", str(newfile))
    assert rc == 0, err
    new_key = open(keyfile).read().strip()
    assert new_key != old_key
    assert new_key == newfile.read_text().strip()
    st2 = os.stat(keyfile)
    assert (st2.st_mode & 0o777) == 0o600
    assert (st2.st_uid, st2.st_gid) == (st.st_uid, st.st_gid)
    after = secrets_state()
    assert set(after) == set(before)
    for k in before:
        assert after[k][0] != before[k][0], "re-encrypted"
        assert int(after[k][1]) == int(before[k][1]) + 1, "key_id moved"
    assert audit_rows("action = 'key_rotate'")

    # The worker decrypts with the new key: a job reaches the payer.
    r = api.upload(phi_csv())
    assert r.status_code == 201, r.text
    p = api.wait_done(r.json()["id"])
    assert p["status"] == "COMPLETED", p
    assert p["success_count"] == 3, p
    res = api.get(f"claims/csv-jobs/{r.json()['id']}/results/").text
    assert res.count(",true,") == 3, res

    # A wrong key file refuses the rotation before anything changes.
    bad = tmp_path / "bad.key"
    bad.write_text("zz\n")
    rc, _, err = ctl_run("rotate-key", "--new-key-file", str(bad))
    assert rc != 0
    assert secrets_state() == after
