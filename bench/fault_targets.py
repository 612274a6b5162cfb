"""What `make faults` (bench/faults.py) kills with SIGKILL and restarts: every process of the fault stack and each
engine (on the cluster profile one Kafka broker of three), in the order the scenarios run."""

from __future__ import annotations

import os
import signal

from deploy.engines import SERVICES, Engine
from deploy.kafka_cluster import KafkaCluster
from deploy.process_environment import service_spec
from deploy.stack import Stack

# Each service's processes: its API, its relay when it publishes events (the webhooks service does not) and its
# worker when it has one (the monitoring service has none; the webhooks service's is its dispatcher).
KINDS = {
    s: ("api",)
    + (("relay",) if service_spec(s).has_relay else ())
    + ((service_spec(s).worker_process,) if service_spec(s).has_worker else ())
    for s in SERVICES
}
PROCESSES = ["issuer-api"] + [f"{s}-{kind}" for s in SERVICES for kind in KINDS[s]] + ["lifecycle-worker"]
ENGINES = ["kafka", "temporal", "postgresql"]
# On the cluster profile "kafka" is one broker of the three.
KILLED_BROKER = 2
# Every scenario, in the order run: the processes first, the engines last (the heaviest to restart). The
# token issuer too: the lifecycle worker's commands need its tokens, the clerks' filing does not (theirs is
# taken once at the start, as a client keeps its token until it expires).
COMPONENTS = [
    "lifecycle-worker",
    "issuer-api",
    *[f"{s}-relay" for s in SERVICES if "relay" in KINDS[s]],
    *[f"{s}-{kind}" for s in SERVICES for kind in KINDS[s] if kind != "relay"],
    *ENGINES,
]


def kill(stack: Stack, component: str) -> None:
    """kill -9 one component of the stack, as a crash would."""
    if component == "kafka" and isinstance(stack.kafka, KafkaCluster):
        # One broker of three, as a machine of a cluster dies: its partitions' leaders move.
        stack.kafka.kill(KILLED_BROKER)
    elif component in ENGINES:
        engine = engine_of(stack, component)
        assert engine.process is not None
        # The engines run in their own session: the whole group goes, as in a crash of the server
        # (PostgreSQL's backends with its postmaster).
        os.killpg(os.getpgid(engine.process.pid), signal.SIGKILL)
        engine.process.wait()
    else:
        stack.kill_process(component)


def restart(stack: Stack, component: str) -> None:
    """Start a killed component again and wait until it is ready."""
    if component == "kafka" and isinstance(stack.kafka, KafkaCluster):
        stack.kafka.restart_node(KILLED_BROKER, timeout=180)
    elif component in ENGINES:
        engine = engine_of(stack, component)
        engine.start()
        engine.wait_ready(timeout=180)
    else:
        stack.restart_process(component, timeout=180)


def engine_of(stack: Stack, name: str) -> Engine:
    """The stack's engine a component names."""
    engines: dict[str, Engine] = {
        "kafka": stack.kafka,
        "temporal": stack.temporal,
        "postgresql": stack.postgres,
    }
    return engines[name]
