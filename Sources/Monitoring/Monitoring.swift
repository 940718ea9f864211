// Monitoring: `mv monitor` — reading current data (CSV or prediction logs), comparing it with a version's reference, policy thresholds, and the reports it commits.
