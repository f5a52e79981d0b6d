"""Driver and executor cores and memory, executor instances, and the master."""

from __future__ import annotations

from typing import Any

from sparkjobs import jobs
from sparkjobs.web.forms import Errors, Section, Values
from sparkjobs.web.sections.text import optional, present, text_of, whole


def parse_resources(v: Values, errs: Errors) -> dict[str, Any]:
    driver = present(
        cores=whole(v, "driver_cores", errs, low=1), memory=optional(v, "driver_memory")
    )
    executor = present(
        cores=whole(v, "executor_cores", errs, low=1),
        memory=optional(v, "executor_memory"),
        instances=whole(v, "executor_instances", errs, low=1),
    )
    return present(driver=driver, executor=executor, master=optional(v, "master"))


def prefill_resources(spec: jobs.JobSpec) -> Values:
    return {
        "master": spec.master or "",
        "driver_cores": text_of(spec.driver.cores),
        "driver_memory": text_of(spec.driver.memory),
        "executor_cores": text_of(spec.executor.cores),
        "executor_memory": text_of(spec.executor.memory),
        "executor_instances": text_of(spec.executor.instances),
    }


SECTION = Section(
    key="resources",
    title="Resources",
    template="jobs/form/resources.html",
    inputs=(
        "master",
        "driver_cores",
        "driver_memory",
        "executor_cores",
        "executor_memory",
        "executor_instances",
    ),
    parse=parse_resources,
    prefill=prefill_resources,
    paths={
        "master": "master",
        "driver": "driver_cores",
        "driver.cores": "driver_cores",
        "driver.memory": "driver_memory",
        "executor": "executor_cores",
        "executor.cores": "executor_cores",
        "executor.memory": "executor_memory",
        "executor.instances": "executor_instances",
    },
)
