"""The scheduler: cron slots become runs, exactly once per slot, on any number of servers.

    sched = Scheduler(settings, db, supervisor)   # clock= and instance_id= for tests
    sched.start() ... sched.shutdown()            # or sched.tick() step by step

For the API and CLI: schedule_view, suspend, resume and record_manual.
"""

from sparkjobs.scheduler.core import Scheduler
from sparkjobs.scheduler.views import record_manual, resume, schedule_view, suspend

__all__ = ["Scheduler", "record_manual", "resume", "schedule_view", "suspend"]
