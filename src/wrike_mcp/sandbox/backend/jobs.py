"""Blueprints and the async jobs that launch them (the launch itself: sandbox/blueprints.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend.core import BackendCore
from wrike_mcp.sandbox.entities import AsyncJob, Blueprint
from wrike_mcp.sandbox.errors import SandboxError, not_found


class JobBackend(BackendCore):
    """Blueprint lookups and async jobs."""

    def blueprint(self, blueprint_id: str, kind: str) -> Blueprint:
        found = self.blueprints.get(blueprint_id)
        if found is None or found.kind != kind:
            raise not_found("Folder blueprint" if kind == "folder" else "Task blueprint", blueprint_id)
        return found

    def blueprint_children(self, blueprint_id: str, kind: str) -> list[Blueprint]:
        return [b for b in self.blueprints.values() if b.parent_id == blueprint_id and b.kind == kind]

    def configure_async_jobs(
        self, polls: int, failure: str | None, *, set_failure: bool, result_ids: bool
    ) -> None:
        """The control plane's settings for new jobs (/_sandbox/async_jobs)."""
        self.async_job_polls = polls
        self.async_job_result_ids = result_ids
        if set_failure:
            self.async_job_failure = failure

    def start_job(self, job_type: str, total_count: int, finish: Callable[[], dict[str, Any]]) -> AsyncJob:
        job = AsyncJob(
            id=self.new_id(ids.ASYNC_JOB),
            type=job_type,
            total_count=total_count,
            polls_left=self.async_job_polls,
            finish=finish,
            result_ids=self.async_job_result_ids,
        )
        if self.async_job_failure is not None:
            job.error_message, self.async_job_failure = self.async_job_failure, None
        self.async_jobs[job.id] = job
        return job

    def poll_job(self, job_id: str) -> AsyncJob:
        """Read a job: while polls are left it advances its progress, the first of two or more reads still
        seeing it InQueue; then it finishes (or fails)."""
        job = self.async_jobs.get(job_id)
        if job is None:
            raise not_found("Async job", job_id)
        if job.status not in ("InQueue", "InProgress"):
            return job
        if job.polls_left > 0:
            polls = job.polls_left + job.reads
            job.polls_left -= 1
            job.reads += 1
            if job.reads == 1 and polls >= 2:
                return job  # still queued: nothing processed yet
            job.status = "InProgress"
            job.processed_count = job.total_count * job.reads // (polls + 1)
            return job
        if job.error_message is not None:
            job.status = "Failed"
            return job
        try:
            result = job.finish()
            # Wrike types `result` as an unexpanded record: the keys naming what was made are the sandbox's,
            # and a job set up without them answers an empty record.
            job.result = result if job.result_ids else {}
        except SandboxError as error:  # the target went away while the job waited
            job.status, job.error_message = "Failed", error.description
            return job
        job.status, job.processed_count = "Completed", job.total_count
        return job
