"""The REST API: an app factory, typed dependencies, schemas and one router per resource."""
