"""Inputs of a run: uploaded artifacts and, later, URLs, git repositories, files and secrets."""
