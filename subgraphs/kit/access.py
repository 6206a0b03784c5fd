"""The access model as field parameters (see docs/access.md).

    @strawberry.federation.field(**personal_data("kesehatan:read"))

gives ``@requiresScopes(scopes: [["kesehatan:read"]]) @policy(policies: [["data_pribadi"]])``;
aggregates use ``authenticated=True``; region reference data carries nothing.
"""

from __future__ import annotations

from strawberry.federation.params import FederationFieldParams

#: the gateway's policy: a declared purpose approved for the calling application.
DATA_PRIBADI = "data_pribadi"


def personal_data(scope: str) -> FederationFieldParams:
    """Personal data owned by the OPD whose read scope is `scope` (e.g. ``sosial:read``)."""
    return {"requires_scopes": [[scope]], "policy": [[DATA_PRIBADI]]}
