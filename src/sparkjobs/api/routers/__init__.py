"""One router per resource, each thin: checks live in schemas and the domain, work in the store
and the supervisor."""
