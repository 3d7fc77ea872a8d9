"""The Anaplan client: authentication, discovery (`AnaplanClient`) and the 15 ALM operations (`AlmClient`).

::

    async with AnaplanClient(auth=BasicAuth("me@example.com", password)) as anaplan:
        models = await anaplan.list_models()
        alm = anaplan.alm(target_model_id)
        latest = await alm.get_latest_revision()
        task = await alm.sync_models(source_revision_id, source_model_id, latest.id, False)

Modules, one concept each: ``auth`` (credentials), ``certificates`` (certificate and key formats, v1/v2
login payloads), ``oauth`` (the stored OAuth grant and its rotation), ``device_login`` (the OAuth
device grant), ``tokens`` (token lifetime, single-flight renewal),
``retry`` (backoff policy and loop), ``transport`` (the shared HTTP channel), ``error_mapping`` (HTTP →
error tree), ``envelopes`` (response bodies), ``paging``, ``polling`` (waiting for tasks), ``creation``
(task-creating POSTs that are never replayed blindly), ``validation``, ``alm`` and ``client``.
"""

from alm_bot.anaplan.alm import AlmClient
from alm_bot.anaplan.auth import BasicAuth, CertificateAuth, Credentials, TokenAuth
from alm_bot.anaplan.client import DEFAULT_API_URL, DEFAULT_AUTH_URL, AnaplanClient
from alm_bot.anaplan.models import (
    DEPLOYED_STATES,
    FINISHED_STATES,
    OFFLINE_STATES,
    CompletedReportTask,
    CompletedSyncTask,
    Model,
    ModelRevision,
    PendingTask,
    ReportTask,
    ReportTaskResult,
    Revision,
    SummaryCounts,
    SummaryReport,
    SyncTask,
    SyncTaskResult,
    TaskError,
    TaskState,
    TaskSummary,
    Workspace,
    parse_report_task,
    parse_sync_task,
)
from alm_bot.anaplan.oauth import GrantStore, OAuthAuth, StoredGrant, TokenGrant
from alm_bot.anaplan.polling import PollPolicy
from alm_bot.anaplan.retry import RetryPolicy

__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_AUTH_URL",
    "DEPLOYED_STATES",
    "FINISHED_STATES",
    "OFFLINE_STATES",
    "AlmClient",
    "AnaplanClient",
    "BasicAuth",
    "CertificateAuth",
    "CompletedReportTask",
    "CompletedSyncTask",
    "Credentials",
    "GrantStore",
    "Model",
    "ModelRevision",
    "OAuthAuth",
    "PendingTask",
    "PollPolicy",
    "ReportTask",
    "ReportTaskResult",
    "RetryPolicy",
    "Revision",
    "StoredGrant",
    "SummaryCounts",
    "SummaryReport",
    "SyncTask",
    "SyncTaskResult",
    "TaskError",
    "TaskState",
    "TaskSummary",
    "TokenAuth",
    "TokenGrant",
    "Workspace",
    "parse_report_task",
    "parse_sync_task",
]
