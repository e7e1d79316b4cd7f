"""Python side of the interop tests: a Celery app on the test broker.

The broker URL comes from BC_INTEROP_BROKER (set by conftest.py before
this module is imported by the test process or by a Python worker).
"""
import os

from celery import Celery

BROKER = os.environ.get("BC_INTEROP_BROKER", "redis://127.0.0.1:21000/0")

app = Celery("interop_app", broker=BROKER, backend=BROKER)
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_transport_options={"visibility_timeout": int(
        os.environ.get("BC_INTEROP_VISIBILITY_TIMEOUT", "3600"))},
)


@app.task(name="bulkclaims.sleep", acks_late=True)
def sleep(seconds):
    """Twin of the C diagnostic task."""
    import time
    time.sleep(seconds)
    return seconds


@app.task(name="bulkclaims.echo")
def echo(*args, **kwargs):
    """Twin of the C diagnostic task: returns what it was given."""
    return {"args": list(args), "kwargs": kwargs}
