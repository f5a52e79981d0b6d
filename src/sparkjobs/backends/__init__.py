"""Backends start Spark applications and report what they observe; they never write the store."""
