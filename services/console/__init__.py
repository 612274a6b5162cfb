"""The agencies' web console (`python -m services.console api`): server-rendered pages in Chinese for the people
who work the cases, a client of the services' APIs only.

A person signs in with their id, password and (when enrolled) TOTP code; the console asks the token issuer
for that person's token over its own client credentials (`grant_type=password`, role `console`) and keeps it
server-side in a session (`sessions.py`), so every read goes to the services with the person's own token —
their scope checks, and their audit rows naming `person:<id>`, stay where they are. The console holds no
signing key and no data of the services: its own schema (`console`) keeps only the sessions, shared by every
replica (`session_store.py`: the session id's hash, the person's token sealed under the console's own key ring,
`ANXIN_CONSOLE_KEYS`).

The pages, one module each in `pages/` (what they share: `web.py`): signing in and out; the inspector's queue,
registers, a case's page with the actions of its stage; the agencies' inbox, handoffs and referrals; the city
office's figures and approvals; the project register, the payouts from deposits and the emergency fund and the
funds; the public pages (docs/console.md). The cluster profile runs two consoles on the
same sessions.
"""
