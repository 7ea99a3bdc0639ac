"""The audit log's entries never hold a secret, and roles allow what the roles below them allow."""
from __future__ import annotations

from entrygate.domain.audit import scrubbed
from entrygate.domain.roles import ConsoleRole


def test_every_secret_field_becomes_secret_set_at_any_depth():
    view = {"name": "S", "apiKey": "egr_x_y", "connectors": {"identity": {"url": "u", "secret": "whsec_abc"},
                                                             "auth": {"url": "v", "secretSet": True}},
            "users": [{"email": "a@b.c", "password": "hunter22", "token": ""}]}
    assert scrubbed(view) == {"name": "S", "secretSet": True,
                              "connectors": {"identity": {"url": "u", "secretSet": True},
                                             "auth": {"url": "v", "secretSet": True}},
                              "users": [{"email": "a@b.c", "secretSet": True}]}
    assert scrubbed({"secret": ""}) == {"secretSet": False}
    assert scrubbed(None) is None


def test_roles_are_ordered_viewer_operator_admin():
    viewer, operator, admin = ConsoleRole.VIEWER, ConsoleRole.OPERATOR, ConsoleRole.ADMIN
    assert [r.allows(viewer) for r in (viewer, operator, admin)] == [True, True, True]
    assert [r.allows(operator) for r in (viewer, operator, admin)] == [False, True, True]
    assert [r.allows(admin) for r in (viewer, operator, admin)] == [False, False, True]
