import { Logger } from '@aws-lambda-powertools/logger'

/**
 * The one logger of a function container: structured JSON on stdout, level from
 * `POWERTOOLS_LOG_LEVEL`. Nothing logs request bodies, and errors are logged only through
 * `describeError` (which drops `cause`, where body parsers keep the raw body).
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'registry-credentials',
})
