"""The token issuer: the one process that signs agency tokens, apart from every service.

`python -m services.issuer api` serves `POST /oauth/token` (OAuth2 client credentials),
`GET /.well-known/jwks.json` (the public keys every service verifies with) and `/healthz`, `/readyz`. It alone
holds the signing key (`ANXIN_TOKEN_SIGNING_JWK`) and reads the registered clients (`ANXIN_CLIENTS_FILE`); the
services' APIs only verify, and answer their own `/oauth/token` with 421 naming this process
(`ANXIN_TOKEN_ISSUER_URL`).

Why a process of its own: the token endpoint is the one route anybody may call with anything, and each call
costs an scrypt. While it shared the intake API's process, a flood of bad token requests took the CPU, the GIL
and the event loop the workers' form needs (docs/security.md, "Token endpoint under flood"). Here a flood costs
this process only, which runs at a lower CPU priority than the services (`ANXIN_TOKEN_ISSUER_NICENESS`), so on
a shared machine the form is served first.

Why not a service like the others (`ServiceSpec`, `services/common/service.py`): it has no events, no
workflow, so no relay and no worker — its state is the signing key, the clients file, the failure counters in
memory, and the people who sign in through the console (`accounts.py`: one table in a schema of its own,
`issuer`, read through a small pool; `ANXIN_ISSUER_PEOPLE=false` leaves it out). It keeps the services' outward
shape (`python -m services.<name> api`, the same middleware, health routes and problem documents) and nothing
else.
"""
