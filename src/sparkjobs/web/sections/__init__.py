"""The job form's sections, in the order the form shows them.

Each section is one module with one template partial, one parse function (what
was typed -> its part of a JobSpec) and one prefill function (a spec -> the text
to show). Files, Environment, Bindings, Schedule and Alerts slot in as further
modules added to SECTIONS; nothing else needs to change.
"""

from __future__ import annotations

from sparkjobs.web.forms import Section
from sparkjobs.web.sections import (
    alerts,
    application,
    basics,
    bindings,
    conf,
    env,
    failure,
    files,
    resources,
    schedule,
    source,
)

SECTIONS: tuple[Section, ...] = (
    basics.SECTION,
    source.SECTION,
    application.SECTION,
    conf.SECTION,
    resources.SECTION,
    files.SECTION,
    env.SECTION,
    bindings.SECTION,
    schedule.SECTION,
    failure.SECTION,
    alerts.SECTION,
)
