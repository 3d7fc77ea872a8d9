"""Evidence of what happened: plan digests, verification after a sync, release notes, audit export.

- `digest`: the plan digest recorded at approval and again just before execution;
- `verification`: after Anaplan reports a sync done, is the target really there (and online)?
- `notes`: the release notes of a successful request, as neutral Markdown;
- `export`: the audit log as one record per request with its whole story, or the raw events.
"""
