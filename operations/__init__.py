"""Operator tools: the `anxin` command line and what its commands do.

The top layer: it may import everything below it (the services, `workflows`, `deploy`), and nothing in
`services` or `workflows` imports it.
"""
