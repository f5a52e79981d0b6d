"""Driver log lines, as Spark 4.3.0 printed them in real runs here, and what they name."""

from __future__ import annotations

import pytest

from sparkjobs.backends import sparklog

LINES = [
    # local[2] word count
    # only the host: the port comes from "Successfully started service" (see below)
    ("26/11/27 19:42:13 INFO JettyUtils: Start Jetty 127.0.0.1:4040 for SparkUI", (None, None)),
    (
        "26/11/27 19:42:13 INFO Utils: Successfully started service 'SparkUI' on port 4040.",
        (None, None),
    ),
    (
        "26/11/27 19:42:18 INFO SparkUI: Stopped Spark web UI at http://127.0.0.1:4041",
        (None, "http://127.0.0.1:4041"),
    ),
    ("26/11/27 19:42:13 INFO SparkContext: Submitted application: wordcount", (None, None)),
    (
        "26/11/27 19:42:13 INFO Executor: Starting executor ID driver on host localhost",
        (None, None),
    ),
    ("spark: 1171", (None, None)),
    # standalone word count
    (
        "26/11/27 19:43:55 INFO StandaloneSchedulerBackend: Connected to Spark cluster "
        "with app ID app-20261127194355-0000",
        ("app-20261127194355-0000", None),
    ),
    (
        "26/11/27 19:43:55 INFO StandaloneAppClient$ClientEndpoint: Executor added: "
        "app-20261127194355-0000/0 on worker-20261127194349-127.0.0.1-46531 "
        "(127.0.0.1:46531) with 2 core(s)",
        (None, None),
    ),
    # Spark 3's wording
    (
        "INFO SparkUI: Bound SparkUI to 0.0.0.0, and started at http://10.0.0.5:4040",
        (None, "http://10.0.0.5:4040"),
    ),
    ("", (None, None)),
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_parse_line(line: str, expected: tuple[str | None, str | None]) -> None:
    assert sparklog.parse_line(line) == expected


def test_ui_applications_url() -> None:
    assert (
        sparklog.ui_applications_url("http://127.0.0.1:4040/")
        == "http://127.0.0.1:4040/api/v1/applications"
    )


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ([{"id": "local-1795808558769", "name": "long", "attempts": []}], "local-1795808558769"),
        ([], None),
        ({"id": "x"}, None),
        ([{"name": "no id"}], None),
        ([{"id": 5}], None),
    ],
)
def test_app_id_from_applications(payload: object, expected: str | None) -> None:
    assert sparklog.app_id_from_applications(payload) == expected


# Two drivers at once: the second found 4040 and 4041 taken (real log, Spark 4.3.0).
SECOND_DRIVER = """\
26/11/27 19:51:19 INFO JettyUtils: Start Jetty 127.0.0.1:4040 for SparkUI
26/11/27 19:51:19 WARN Utils: Service 'SparkUI' could not bind on port 4040. Attempting port 4041.
26/11/27 19:51:19 WARN Utils: Service 'SparkUI' could not bind on port 4041. Attempting port 4042.
26/11/27 19:51:19 INFO Utils: Successfully started service 'SparkUI' on port 4042.
26/11/27 19:51:24 INFO SparkUI: Stopped Spark web UI at http://127.0.0.1:4042
"""


def feed(text: str) -> sparklog.DriverFacts:
    facts = sparklog.DriverFacts()
    for line in text.splitlines():
        facts = facts.feed(line)
    return facts


def test_the_ui_url_is_the_port_spark_bound_not_the_one_it_tried() -> None:
    facts = feed(SECOND_DRIVER)
    assert (facts.ui_url, facts.app_id, facts.complete) == ("http://127.0.0.1:4042", None, False)
    standalone = "INFO StandaloneSchedulerBackend: Connected to Spark cluster with app ID app-1-0"
    assert feed(SECOND_DRIVER + standalone).complete


def test_facts_grow_line_by_line_and_the_first_wins() -> None:
    lines = SECOND_DRIVER.splitlines()
    assert feed(lines[0]).ui_url is None
    assert feed("\n".join(lines[:4])).ui_url == "http://127.0.0.1:4042"
    later = "INFO Utils: Successfully started service 'SparkUI' on port 4099."
    assert feed(SECOND_DRIVER + later).ui_url == "http://127.0.0.1:4042"


def test_a_driver_ui_bound_to_every_interface_is_known_by_its_last_line() -> None:
    wildcard = (
        "INFO JettyUtils: Start Jetty 0.0.0.0:4040 for SparkUI\n"
        "INFO Utils: Successfully started service 'SparkUI' on port 4040.\n"
    )
    assert feed(wildcard).ui_url is None
    assert feed(wildcard + "INFO SparkUI: Stopped Spark web UI at http://10.1.2.3:4040").ui_url == (
        "http://10.1.2.3:4040"
    )


def test_other_jetty_servers_are_not_the_driver_ui() -> None:
    master = (
        "INFO JettyUtils: Start Jetty 127.0.0.1:8080 for MasterUI\n"
        "INFO Utils: Successfully started service 'MasterUI' on port 8080.\n"
    )
    assert feed(master).ui_url is None
