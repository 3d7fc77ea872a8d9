"""The sandbox's seed data: fixed ids, deterministic, rebuilt by `reset()`.

Logins (password `PASSWORD` = "sandbox" for both):

- `ADMIN_USER` admin@sandbox.example — Workspace Administrator in "FP&A", a plain member of "Sales Ops";
- `VIEWER_USER` viewer@sandbox.example — a member of both workspaces, Workspace Administrator nowhere.

Workspace "FP&A" (`WORKSPACE_ID`):

=====================  ===================  =======================  ==================================
model                  id constant          activeState              revision history (oldest first)
=====================  ===================  =======================  ==================================
FP&A DEV               `DEV_MODEL_ID`       UNLOCKED (standard)      R1 R2 R3 R4, + 1 pending structural
                                                                     change (so a revision can be added)
FP&A TEST              `TEST_MODEL_ID`      PRODUCTION (deployed)    R1 R2 R3 (latest R3)
FP&A PROD              `PROD_MODEL_ID`      PRODUCTION (deployed)    R1 R2 (latest R2)
FP&A 2024 Archive      `ARCHIVED_MODEL_ID`  ARCHIVED                 R1
Workforce Planning     `UNRELATED_MODEL_ID` UNLOCKED (standard)      U1 U2 — its own history, so it and
                                                                     the FP&A models are incompatible
=====================  ===================  =======================  ==================================

Workspace "Sales Ops" (`SALES_WORKSPACE_ID`), where admin is *not* Workspace Administrator:
"Sales Ops Planning" (`FOREIGN_MODEL_ID`, PRODUCTION, history R1 — a copy of the FP&A template).

A deleted model, "FP&A UAT" (`DELETED_MODEL_ID`), once took R1: it is not listed anywhere but shows
in R1's ``appliedToModels`` with ``modelDeleted: true``, as Anaplan does.

So, out of the box: DEV→TEST can sync R4; DEV→PROD can sync R4 or R3 (newest first); TEST→PROD
can sync R3; Workforce Planning→anything FP&A is incompatible. Each revision carries a synthetic
change set, listed in the reports.
"""

from __future__ import annotations

from typing import Final

from alm_bot.sandbox.changes import Change, synthetic_change
from alm_bot.sandbox.formats import parse_iso_second
from alm_bot.sandbox.state import Application, Model, Revision, User, Workspace, World

__all__ = [
    "ADMIN_GUID",
    "ADMIN_USER",
    "ARCHIVED_MODEL_ID",
    "CUSTOMER_GUID",
    "DELETED_MODEL_ID",
    "DEV_MODEL_ID",
    "FOREIGN_MODEL_ID",
    "OAUTH_CLIENT_ID",
    "PASSWORD",
    "PROD_MODEL_ID",
    "R1_ID",
    "R1_NAME",
    "R2_ID",
    "R2_NAME",
    "R3_ID",
    "R3_NAME",
    "R4_ID",
    "R4_NAME",
    "SALES_WORKSPACE_ID",
    "TEST_MODEL_ID",
    "U1_ID",
    "U1_NAME",
    "U2_ID",
    "U2_NAME",
    "UNRELATED_MODEL_ID",
    "VIEWER_GUID",
    "VIEWER_USER",
    "WORKSPACE_ID",
    "build_world",
]

ADMIN_USER: Final = "admin@sandbox.example"
OAUTH_CLIENT_ID: Final = "alm-bot-sandbox-device"
"""The one registered OAuth (device grant) client of the sandbox."""
VIEWER_USER: Final = "viewer@sandbox.example"
PASSWORD: Final = "sandbox"  # noqa: S105 - the public, documented sandbox login
ADMIN_GUID: Final = "4031a61059f9ab680e4d5dfbdbfc9157"
VIEWER_GUID: Final = "b627c7172bace4e6163a2ffda5fc0ed4"
CUSTOMER_GUID: Final = "b6c45863875e34487ca3c155ed145efe"

WORKSPACE_ID: Final = "664f364dd0fe99ae20590bb75b223cf6"
SALES_WORKSPACE_ID: Final = "12dee347edc6cb80e7484bf2a2c59396"

DEV_MODEL_ID: Final = "1497B2A3711C8A3E75250696C910CFBA"
TEST_MODEL_ID: Final = "BEAF758E4F14501ABBEA2032E8C9753B"
PROD_MODEL_ID: Final = "0085E9ACE5F908A0582AA6F438CE70FC"
ARCHIVED_MODEL_ID: Final = "80588C0308BE9D2F237638CB1C0C89D1"
FOREIGN_MODEL_ID: Final = "595A6AB41533D94E95096E3311137FB8"
UNRELATED_MODEL_ID: Final = "403C5BDFEAEEE1D90385368764AFFE10"
DELETED_MODEL_ID: Final = "C344D24D9F9BF8DE8393829CEB3E8A77"

R1_ID: Final = "8B0A1C4B0187A1EBC8F518E0F06A17C1"
R2_ID: Final = "D88FFB555CB331A67BFA533499D6949B"
R3_ID: Final = "BC41E84A39919C319AAD60ED8D67B80A"
R4_ID: Final = "C5F38FE0C35EB839CAB6013351BEDCF4"
U1_ID: Final = "B8D945C0D2B916886D1E96E19F8F89F3"
U2_ID: Final = "06FE56E6C260411756A9D8DC05EF7DC3"
R1_NAME: Final = "Initial build"
R2_NAME: Final = "Headcount planning"
R3_NAME: Final = "Q3 forecast"
R4_NAME: Final = "Capex module"
U1_NAME: Final = "Workforce baseline"
U2_NAME: Final = "Attrition"

_GB: Final = 1024**3
_FINANCE_CATEGORY: Final = {
    "id": "3f1c0d2b6a7e4c58b9d0e1f2a3b4c5d6",
    "attribute": "Finance",
    "categoryId": "7a8b9c0d1e2f4a5b6c7d8e9f0a1b2c3d",
    "categoryName": "Business Function",
    "customerId": CUSTOMER_GUID,
}


def _t(text: str) -> float:
    return parse_iso_second(text)


def _users() -> dict[str, User]:
    return {
        ADMIN_USER: User(ADMIN_USER, PASSWORD, ADMIN_GUID),
        VIEWER_USER: User(VIEWER_USER, PASSWORD, VIEWER_GUID),
    }


def _workspaces() -> dict[str, Workspace]:
    everyone = {ADMIN_USER, VIEWER_USER}
    return {
        WORKSPACE_ID: Workspace(WORKSPACE_ID, "FP&A", 10 * _GB, set(everyone), {ADMIN_USER}),
        SALES_WORKSPACE_ID: Workspace(SALES_WORKSPACE_ID, "Sales Ops", 5 * _GB, set(everyone), set()),
    }


def _changes_r1() -> tuple[Change, ...]:
    return (
        Change("lists", "created", ("Products", "", "All Products")),
        Change("lists", "created", ("Regions", "", "All Regions")),
        Change("modules", "created", ("REV01 Revenue", "Products, Regions, Time")),
        Change("modules", "created", ("OPX01 Opex", "Regions, Time")),
        Change("modules", "created", ("SYS01 Time Settings", "Time")),
        Change("lineItems", "created", ("REV01 Revenue", "Units", "Number", "0")),
        Change("lineItems", "created", ("REV01 Revenue", "Price", "Number", "0")),
        Change("lineItems", "created", ("REV01 Revenue", "Revenue", "Number", "Units * Price")),
        Change("lineItems", "created", ("OPX01 Opex", "Opex", "Number", "0")),
        Change("lineItems", "created", ("SYS01 Time Settings", "Current Month", "Boolean", "FALSE")),
        Change("rolesContents", "created", ("Planner", "REV01 Revenue", "Write")),
    )


def _changes_r2() -> tuple[Change, ...]:
    return (
        Change("lists", "created", ("Employees", "", "All Employees")),
        Change("modules", "created", ("HC01 Headcount", "Employees, Time")),
        Change("lineItems", "created", ("HC01 Headcount", "FTE", "Number", "1")),
        Change("lineItems", "created", ("HC01 Headcount", "Salary", "Number", "0")),
        Change("lineItems", "created", ("HC01 Headcount", "Cost", "Number", "FTE * Salary")),
        Change("rolesContents", "modified", ("Planner", "HC01 Headcount", "Write")),
    )


def _changes_r3() -> tuple[Change, ...]:
    forecast = "IF ITEM(Versions) = Versions.Forecast THEN Revenue ELSE 0"
    return (
        Change("modules", "modified", ("REV01 Revenue", "Products, Regions, Time, Versions")),
        Change("lineItems", "created", ("REV01 Revenue", "Forecast Revenue", "Number", forecast)),
        Change("lineItems", "modified", ("REV01 Revenue", "Revenue", "Number", "Units * Price * 0.98")),
        Change("lineItems", "modified", ("OPX01 Opex", "Opex", "Number", "HC01 Headcount.Cost")),
        Change("listSubsets", "created", ("Products", "Forecast Products")),
    )


def _changes_r4() -> tuple[Change, ...]:
    return (
        Change("lists", "created", ("Assets", "", "All Assets")),
        Change("lists", "modified", ("Regions", "2", "0", "0", "0", "0", "0", "0")),  # 2 items added
        Change("modules", "created", ("CPX01 Capex", "Assets, Time")),
        Change("lineItems", "created", ("CPX01 Capex", "Asset Cost", "Number", "0")),
        Change("lineItems", "created", ("CPX01 Capex", "Useful Life", "Number", "5")),
        Change("lineItems", "created", ("CPX01 Capex", "Depreciation", "Number", "Asset Cost / 60")),
        Change("lineItems", "created", ("CPX01 Capex", "Net Book Value", "Number", "Asset Cost")),
        Change("rolesContents", "modified", ("Planner", "CPX01 Capex", "Read")),
    )


def _changes_u1() -> tuple[Change, ...]:
    return (
        Change("lists", "created", ("Employees", "", "All Employees")),
        Change("modules", "created", ("WF01 Workforce", "Employees, Time")),
    )


def _changes_u2() -> tuple[Change, ...]:
    return (Change("lineItems", "created", ("WF01 Workforce", "Attrition Rate", "Percentage", "0.05")),)


def _added(model_id: str, when: str) -> Application:
    return Application(model_id, _t(when), ADMIN_GUID, "User added revision")


def _synced(model_id: str, when: str) -> Application:
    return Application(model_id, _t(when), ADMIN_GUID, "Revision synchronized")


def _revision(
    rev_id: str, name: str, description: str | None, when: str, changes: tuple[Change, ...]
) -> Revision:
    return Revision(rev_id, name, description, _t(when), ADMIN_GUID, "User added revision", changes)


def _revisions() -> dict[str, Revision]:
    r1 = _revision(R1_ID, R1_NAME, "First release of the FP&A model.", "2025-01-06T09:00:00Z", _changes_r1())
    r1.applications += [
        _added(DEV_MODEL_ID, "2025-01-06T09:00:00Z"),
        _synced(TEST_MODEL_ID, "2025-01-07T08:00:00Z"),
        _synced(DELETED_MODEL_ID, "2025-01-07T12:00:00Z"),
        _synced(PROD_MODEL_ID, "2025-01-08T08:00:00Z"),
        _synced(ARCHIVED_MODEL_ID, "2025-01-09T08:00:00Z"),
        _synced(FOREIGN_MODEL_ID, "2025-01-10T08:00:00Z"),
    ]
    r2 = _revision(R2_ID, R2_NAME, "Adds the headcount module.", "2025-02-03T09:30:00Z", _changes_r2())
    r2.applications += [
        _added(DEV_MODEL_ID, "2025-02-03T09:30:00Z"),
        _synced(TEST_MODEL_ID, "2025-02-04T08:00:00Z"),
        _synced(PROD_MODEL_ID, "2025-02-05T08:00:00Z"),
    ]
    # R3 has no description: Anaplan then leaves the key out.
    r3 = _revision(R3_ID, R3_NAME, None, "2025-03-03T10:00:00Z", _changes_r3())
    r3.applications += [
        _added(DEV_MODEL_ID, "2025-03-03T10:00:00Z"),
        _synced(TEST_MODEL_ID, "2025-03-04T08:00:00Z"),
    ]
    r4 = _revision(R4_ID, R4_NAME, "Capital expenditure planning.", "2025-04-07T14:15:00Z", _changes_r4())
    r4.applications += [_added(DEV_MODEL_ID, "2025-04-07T14:15:00Z")]
    u1 = _revision(U1_ID, U1_NAME, "Workforce model baseline.", "2024-11-04T09:00:00Z", _changes_u1())
    u1.applications += [_added(UNRELATED_MODEL_ID, "2024-11-04T09:00:00Z")]
    u2 = _revision(U2_ID, U2_NAME, "Attrition assumptions.", "2024-12-02T09:00:00Z", _changes_u2())
    u2.applications += [_added(UNRELATED_MODEL_ID, "2024-12-02T09:00:00Z")]
    return {r.id: r for r in (r1, r2, r3, r4, u1, u2)}


def _model(
    model_id: str,
    name: str,
    workspace_id: str,
    state: str,
    revisions: list[str],
    created: str,
    modified: str,
    memory_mb: int,
) -> Model:
    finance = [dict(_FINANCE_CATEGORY)] if workspace_id == WORKSPACE_ID else []
    return Model(
        id=model_id,
        name=name,
        workspace_id=workspace_id,
        active_state=state,
        revision_ids=revisions,
        created_on=_t(created),
        last_modified=_t(modified),
        memory_usage=memory_mb * 1024 * 1024,
        last_saved_serial_number=2_000_000 + memory_mb,
        last_modified_by=ADMIN_GUID,
        category_values=finance,
    )


def _models() -> dict[str, Model]:
    ws, sales = WORKSPACE_ID, SALES_WORKSPACE_ID
    dev = _model(
        DEV_MODEL_ID, "FP&A DEV", ws, "UNLOCKED", [R1_ID, R2_ID, R3_ID, R4_ID],
        "2024-12-16T09:00:00Z", "2025-04-08T10:00:00Z", 412,
    )  # fmt: skip
    # A structural change after R4, so a revision can be created out of the box.
    dev.pending_changes.append(synthetic_change(1))
    models = [
        dev,
        _model(
            TEST_MODEL_ID, "FP&A TEST", ws, "PRODUCTION", [R1_ID, R2_ID, R3_ID],
            "2025-01-07T08:00:00Z", "2025-03-04T08:00:00Z", 388,
        ),
        _model(
            PROD_MODEL_ID, "FP&A PROD", ws, "PRODUCTION", [R1_ID, R2_ID],
            "2025-01-08T08:00:00Z", "2025-02-05T08:00:00Z", 1530,
        ),
        _model(
            ARCHIVED_MODEL_ID, "FP&A 2024 Archive", ws, "ARCHIVED", [R1_ID],
            "2025-01-09T08:00:00Z", "2025-01-09T08:00:00Z", 0,
        ),
        _model(
            UNRELATED_MODEL_ID, "Workforce Planning", ws, "UNLOCKED", [U1_ID, U2_ID],
            "2024-11-04T09:00:00Z", "2024-12-02T09:00:00Z", 96,
        ),
        _model(
            FOREIGN_MODEL_ID, "Sales Ops Planning", sales, "PRODUCTION", [R1_ID],
            "2025-01-10T08:00:00Z", "2025-01-10T08:00:00Z", 254,
        ),
        _model(
            DELETED_MODEL_ID, "FP&A UAT", ws, "UNLOCKED", [R1_ID],
            "2025-01-07T12:00:00Z", "2025-01-07T12:00:00Z", 0,
        ),
    ]  # fmt: skip
    models[-1].deleted = True
    return {m.id: m for m in models}


def build_world() -> World:
    """A fresh copy of the seed data; nothing in it is shared with an earlier copy."""
    return World(
        users=_users(),
        workspaces=_workspaces(),
        models=_models(),
        revisions=_revisions(),
        structural_change_count=1,
    )
