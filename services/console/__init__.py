"""The agencies' web console (`python -m services.console api`): server-rendered pages in Chinese for the people
who work the cases, a client of the services' APIs only.

A person signs in with their id, password and (when enrolled) TOTP code; the console asks the token issuer
for that person's token over its own client credentials (`grant_type=password`, role `console`) and keeps it
server-side in a session (`sessions.py`), so every read goes to the services with the person's own token —
their scope checks, and their audit rows naming `person:<id>`, stay where they are. The console holds no
signing key, no database and no data key.

This first slice: sign-in and sign-out (also everywhere), the inspector's queue and a read-only case page
(docs/console.md). Sessions are in this process's memory: they end when it restarts, and the cluster profile
runs one console.
"""
