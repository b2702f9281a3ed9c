// imported first by the cold-start bench: the local stack it seeds through runs the handlers in
// the bench's own process, and their logs and EMF metrics would bury the report. The measured
// children get each function's own environment instead, as deployed.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN'
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'
