"""The tool catalogue alm-bot promises (DESIGN.md): names, and which tools change something."""

from __future__ import annotations

SEED_OPERATIONS = [
    "change_model_status",
    "get_revisions",
    "get_latest_revision",
    "get_syncable_revisions",
    "create_revision",
    "get_sync_tasks",
    "get_sync_task",
    "sync_models",
    "get_models_for_revision",
    "create_comparison_report",
    "get_comparison_report_task",
    "get_comparison_report",
    "create_comparison_summary",
    "get_comparison_summary_task",
    "get_comparison_summary",
]
EXTRA_TOOLS = [
    "alm_list_models",
    "alm_get_request",
    "alm_list_requests",
    "alm_cancel_request",
    "alm_request_release",
    "alm_drop_release_targets",
    "alm_get_change_windows",
    "alm_override_change_window",
]
ALL_TOOLS = {f"alm_{name}" for name in SEED_OPERATIONS} | set(EXTRA_TOOLS)

CHANGING_TOOLS = {
    "alm_create_revision",
    "alm_sync_models",
    "alm_change_model_status",
    "alm_create_comparison_report",
    "alm_create_comparison_summary",
    "alm_cancel_request",
    "alm_request_release",
    "alm_drop_release_targets",
    "alm_override_change_window",
}
REQUEST_REGISTRY_TOOLS = {
    "alm_get_request",
    "alm_list_requests",
    "alm_cancel_request",
    "alm_get_change_windows",
}
