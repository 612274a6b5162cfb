"""The console's pages, one module per part of the work: each has a `router` and the `NAV` links it adds to
the header for the roles it serves; `services/console/app.py` mounts them all."""
