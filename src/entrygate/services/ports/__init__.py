"""Every port an adapter implements, one module per concern, with the typed records it carries.

    storage     the unit of work and its repositories (``adapters/db``, ``adapters/memory/storage.py``)
    decisions   the decision log and one decision's writes (``adapters/db/group_commit.py``)
    payments    the payments unit of work: trips' ledger, holds, trip clocks
    trips       the trip resource's batch read of holds
    processor   the payment processor (``adapters/processors``)
    connectors  the retailer's identity and shopper-authorization connectors, the connectivity probe
    palm        palm enrollments, the 1:N index, templates at rest
    console     console sessions, the sign-in backoff, the dashboard's queries
    security    password hashing
    risk        the risk model's scorer
    observer    what metrics hear of every decision
    clock       what time it is

The in-memory implementations are in ``adapters/memory`` (storage, payments, palm, console,
dashboard, connectors, a processor with scripted faults, passwords), held to the same contract
tests as the real adapters (``tests/contracts``); the sandbox processor, the palm index and
``adapters/clock.FixedClock`` work in memory already.

Not here: ``ChannelHandler`` and ``RiskAssessor`` (``services/gate/context.py``) are steps of the
entry pipeline that services implement, not adapters; the risk CLI's training sources belong to
the risk CLI.
"""
