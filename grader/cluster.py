"""Grade a class on a ``dask.distributed`` cluster: one task per submission.

``rnn-grader grade ... --scheduler ADDRESS`` sends the tasks to an existing scheduler;
``--scheduler local`` starts a ``LocalCluster`` of ``--workers`` processes for the run. A
task grades one submission with the same engine (and the same sandbox, on the worker's
machine) as the local pool and returns its record; the client writes the records as they
arrive, so they are the local pool's records, and an interrupted run resumes the same way.
When the run grades on CUDA (the training check then trains on the GPU), each task asks for
one ``GPU`` worker resource, so that only workers started with ``--resources GPU=1`` take it.
Submissions are read from their paths: the workers must see the same file system as the client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from grader.errors import ConfigError
from grader.record import Record

__all__ = ["run_on_dask", "task_resources"]


def run_on_dask(
    jobs: list[dict], *, scheduler: str, workers: int, on_record: Callable[[Record], None]
) -> list[Record]:
    """Grade `jobs` (keyword arguments of :func:`grader.api.grade_notebook`) on the cluster, in order."""
    try:
        from dask.distributed import as_completed
    except ImportError:
        raise ConfigError("--scheduler needs Dask: pip install 'rnn-autograder[dask]'") from None
    from grader.api import _store

    cuda = any(str(job["device"]).startswith("cuda") for job in jobs)
    results: dict[int, Record] = {}
    with _client(scheduler, workers, cuda=cuda) as client:
        futures = {
            client.submit(grade_task, {**job, "out_dir": None}, pure=False, resources=task_resources(job)): i
            for i, job in enumerate(jobs)
        }
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            _store(results[i], jobs[i]["out_dir"])
            on_record(results[i])
    return [results[i] for i in range(len(jobs))]


def task_resources(job: dict) -> dict | None:
    """The worker resources a submission's task needs: a GPU when it is graded on CUDA."""
    return {"GPU": 1} if str(job["device"]).startswith("cuda") else None


def grade_task(job: dict) -> Record:
    """What a Dask worker runs: grade one submission and return its record (the client writes it)."""
    from grader.api import grade_notebook

    return grade_notebook(**job)


@contextlib.contextmanager
def _client(scheduler: str, workers: int, *, cuda: bool) -> Iterator:
    import logging

    from dask.distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler == "local":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                    resources={"GPU": 1} if cuda else None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="30s"))
            except OSError as exc:
                raise ConfigError(
                    f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})"
                ) from None
        yield client
