"""SIGHUP with a broken configuration file: the C worker logs the error
(file, line, key; the value only for a number) and keeps running on the
configuration it had, in every process (main, children, watchdog)."""
import signal

import pytest

from conftest import wait_for

KEY = "celery.task.bulkclaims.sleep.time_limit"


@pytest.mark.parametrize("bad, want", [
    # A malformed number, refused as a whole.
    ("worker.heartbeat_interval = 2x",
     ':2: worker.heartbeat_interval = "2x": not an integer'),
    # A syntax error after a good line: the old loader had already
    # taken line 1 (the new limit) when it stopped at line 2.
    ("this line has no equals sign", ":2: expected 'key = value'"),
])
def test_sighup_bad_file_keeps_old_config(app, c_worker, r, tmp_path, bad,
                                          want):
    conf = tmp_path / "worker.conf"
    conf.write_text("%s = 2\n" % KEY)
    w = c_worker("-c", str(conf))
    conf.write_text("%s = 600\n%s\n" % (KEY, bad))
    w.p.send_signal(signal.SIGHUP)
    msg = "configuration reload failed: %s%s" % (conf, want)
    # Main process, its one consumer child and the watchdog each say so.
    assert wait_for(lambda: w.log().count(msg) >= 3, 15), w.log()
    assert "configuration reloaded" not in w.log()
    assert w.p.poll() is None
    # The old 2 s hard limit still holds (600 s would let it sleep 30 s).
    res = app.send_task("bulkclaims.sleep", args=[30])
    with pytest.raises(Exception) as ei:
        res.get(timeout=15)
    assert type(ei.value).__name__ == "TimeLimitExceeded"
    assert w.p.poll() is None
    # The limit in force came from the old file, not from a default.
    assert "hard time limit (2s) exceeded" in w.log()
