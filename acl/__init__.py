"""acl: principals, groups, entitlements and the rules an admin relies on (SQL side).

Public names only; other folders import from here, never from the modules below.

    principals   parse_principal, parse_user, group_principal, principal_kind
    epoch        ensure_tenant, bump_acl_epoch, current_epoch
    entitlements entitlements_for (one recursive CTE), membership_chains
    resolver     EntitlementResolver, EntitlementCache (keyed on the tenant's acl_epoch)
    groups       put_group, get_group, delete_group, list_groups, GroupInfo
    explain      explain_access, explain_document_access, AccessExplanation
    access       document_access, DocumentAccess (who may read a document, and how)
"""

from .access import DocumentAccess, EntryReport, UserAccess, document_access
from .entitlements import entitlements_for, membership_chains
from .epoch import bump_acl_epoch, current_epoch, ensure_tenant
from .explain import AccessExplanation, AccessReason, explain_access, explain_document_access
from .groups import GroupInfo, delete_group, get_group, list_groups, put_group
from .principals import (
    PrincipalKind,
    group_principal,
    parse_principal,
    parse_user,
    principal_kind,
)
from .resolver import EntitlementCache, EntitlementResolver

__all__ = [
    "AccessExplanation",
    "AccessReason",
    "DocumentAccess",
    "EntitlementCache",
    "EntitlementResolver",
    "EntryReport",
    "GroupInfo",
    "PrincipalKind",
    "UserAccess",
    "bump_acl_epoch",
    "current_epoch",
    "delete_group",
    "document_access",
    "ensure_tenant",
    "entitlements_for",
    "explain_access",
    "explain_document_access",
    "get_group",
    "group_principal",
    "list_groups",
    "membership_chains",
    "parse_principal",
    "parse_user",
    "principal_kind",
    "put_group",
]
