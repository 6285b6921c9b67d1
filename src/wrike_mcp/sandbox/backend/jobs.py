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

    def configure_async_jobs(self, polls: int, failure: str | None, *, set_failure: bool) -> None:
        """The control plane's settings for new jobs (/_sandbox/async_jobs)."""
        self.async_job_polls = polls
        if set_failure:
            self.async_job_failure = failure

    def start_job(self, job_type: str, total_count: int, finish: Callable[[], dict[str, Any]]) -> AsyncJob:
        job = AsyncJob(
            id=self.new_id(ids.ASYNC_JOB),
            type=job_type,
            total_count=total_count,
            polls_left=self.async_job_polls,
            finish=finish,
        )
        if self.async_job_failure is not None:
            job.error_message, self.async_job_failure = self.async_job_failure, None
        self.async_jobs[job.id] = job
        return job

    def poll_job(self, job_id: str) -> AsyncJob:
        """Read a job: while polls are left it advances its progress; then it finishes (or fails)."""
        job = self.async_jobs.get(job_id)
        if job is None:
            raise not_found("Async job", job_id)
        if job.status not in ("InQueue", "InProgress"):
            return job
        if job.polls_left > 0:
            job.polls_left -= 1
            done = self.async_job_polls - job.polls_left
            job.processed_count = job.total_count * done // (self.async_job_polls + 1)
            return job
        if job.error_message is not None:
            job.status = "Failed"
            return job
        try:
            job.result = job.finish()
        except SandboxError as error:  # the target went away while the job waited
            job.status, job.error_message = "Failed", error.description
            return job
        job.status, job.processed_count = "Completed", job.total_count
        return job
