"""Operator tools: the `anxin` command line and what it runs. They sit above the services and workflows."""
