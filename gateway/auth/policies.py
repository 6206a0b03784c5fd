"""Declarative ``@policy`` evaluation: conditions from configuration, no ``eval``, no code.

A policy name used in the supergraph (``@policy(policies: [["data_pribadi"]])``) is granted when
every condition configured for it holds for the principal. A name with no configuration is refused
(closed by default). Each refusal carries a reason a caller can act on ("no purpose declared").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.auth.config import PolicySection
from gateway.auth.principal import Principal


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted claim path (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


class PolicyEvaluator:
    """Evaluates configured policies for a principal; built once from configuration."""

    def __init__(self, policies: Mapping[str, PolicySection], purpose_header: str) -> None:
        self._policies = dict(policies)
        self._header = purpose_header

    def evaluate(self, name: str, principal: Principal) -> str | None:
        """None when ``name`` is granted to ``principal``; otherwise why it is refused."""
        policy = self._policies.get(name)
        if policy is None:
            return f'policy "{name}" is not configured on this gateway'
        if policy.authenticated and not principal.authenticated:
            return "it needs an authenticated, registered consumer application"
        if policy.applications is not None and principal.application not in policy.applications:
            return f'application "{principal.application}" is not one this policy allows'
        if policy.opds is not None and principal.opd not in policy.opds:
            return f'OPD "{principal.opd}" is not one this policy allows'
        for path, allowed in policy.claims.items():
            if str(claim(principal.claims, path)) not in allowed:
                return f'the token\'s claim "{path}" does not have an allowed value'
        if policy.roles_any is not None and not principal.roles & set(policy.roles_any):
            return f"it needs one of the roles {', '.join(sorted(policy.roles_any))}"
        missing = [s for s in policy.scopes_all if s not in principal.scopes]
        if missing:
            return f"it needs the scopes {', '.join(missing)}"
        if policy.purpose_approved or policy.purposes is not None:
            return self._purpose_refusal(name, policy, principal)
        return None

    def _purpose_refusal(
        self, name: str, policy: PolicySection, principal: Principal
    ) -> str | None:
        """Why the declared purpose does not open ``name``, for a policy that asks for one."""
        if principal.purpose is None:
            return (
                f"personal data needs a declared purpose: send the {self._header} header "
                "with a purpose your application is approved for"
            )
        if policy.purpose_approved and not principal.purpose_approved:
            approved = ", ".join(sorted(principal.approved_purposes)) or "none"
            return (
                f'purpose "{principal.purpose}" is not approved for application '
                f'"{principal.application}" (approved: {approved})'
            )
        if policy.purposes is not None and principal.purpose not in policy.purposes:
            return f'purpose "{principal.purpose}" is not allowed for this data'
        if not principal.purpose_opens(name):
            return f'purpose "{principal.purpose}" does not approve the policy "{name}"'
        return None

    def evaluate_all(
        self, names: Iterable[str], principal: Principal
    ) -> tuple[tuple[str, str | None], ...]:
        return tuple((name, self.evaluate(name, principal)) for name in sorted(set(names)))
