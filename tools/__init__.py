"""Developer instruments (not shipped in the wheel): fake Slack server and request signing, bench, loadgen."""
