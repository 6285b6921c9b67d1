"""Task dependencies: which relation types the tasks' dates allow; no self-links, duplicates or cycles."""

from __future__ import annotations

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.backend.core import BackendCore
from wrike_mcp.sandbox.entities import RELATION_DATE_TYPES, Dependency, Task
from wrike_mcp.sandbox.errors import invalid_parameter, not_found


def check_relation(relation_type: str, predecessor: Task, successor: Task) -> None:
    allowed_before, allowed_after = RELATION_DATE_TYPES[relation_type]
    for task, allowed, role in (
        (predecessor, allowed_before, "predecessor"),
        (successor, allowed_after, "successor"),
    ):
        if task.dates.type not in allowed:
            raise invalid_parameter(
                "relationType",
                f"{relation_type} needs a {' or '.join(allowed)} {role}; task '{task.id}' is {task.dates.type}",
            )


class DependencyBackend(BackendCore):
    """Links between tasks."""

    def dependency_ids(self, task_id: str) -> list[str]:
        return [d.id for d in self.dependencies.values() if task_id in (d.predecessor_id, d.successor_id)]

    def dependency(self, dependency_id: str) -> Dependency:
        found = self.dependencies.get(dependency_id)
        if found is None:
            raise not_found("Dependency", dependency_id)
        return found

    def add_dependency(
        self, predecessor: Task, successor: Task, relation_type: str, lag_time: int, name: str
    ) -> Dependency:
        """Link two tasks; `name` is the request parameter that named the other task, for the errors."""
        if predecessor.id == successor.id:
            raise invalid_parameter(
                name, f"refers to task '{predecessor.id}' itself: a task cannot depend on itself"
            )
        for existing in self.dependencies.values():
            if (existing.predecessor_id, existing.successor_id) == (predecessor.id, successor.id):
                raise invalid_parameter(
                    name,
                    f"duplicates dependency '{existing.id}' between these tasks ({existing.relation_type})",
                )
        if predecessor.id in self._successors_of(successor.id):
            raise invalid_parameter(name, "would make a circular dependency between these tasks")
        check_relation(relation_type, predecessor, successor)
        dependency = Dependency(
            id=self.new_format_id(ids.DEPENDENCY),  # created now, so in the 2025-07 format
            predecessor_id=predecessor.id,
            successor_id=successor.id,
            relation_type=relation_type,
            lag_time=lag_time,
        )
        self.dependencies[dependency.id] = dependency
        return dependency

    def update_dependency(
        self, dependency: Dependency, relation_type: str | None, lag_time: int | None
    ) -> None:
        if relation_type is not None:
            check_relation(
                relation_type, self.tasks[dependency.predecessor_id], self.tasks[dependency.successor_id]
            )
            dependency.relation_type = relation_type
        if lag_time is not None:
            dependency.lag_time = lag_time

    def delete_dependency(self, dependency: Dependency) -> None:
        del self.dependencies[dependency.id]

    def _successors_of(self, task_id: str) -> set[str]:
        found: set[str] = set()
        pending = [task_id]
        while pending:
            current = pending.pop()
            for dependency in self.dependencies.values():
                if dependency.predecessor_id == current and dependency.successor_id not in found:
                    found.add(dependency.successor_id)
                    pending.append(dependency.successor_id)
        return found
