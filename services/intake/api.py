"""HTTP routes of the intake service: thin, HTTP in, domain call, store, workflow call out."""

from fastapi import APIRouter

router = APIRouter(prefix="/v1")
