import { LambdaClient } from '@aws-sdk/client-lambda'
import type { Context } from 'aws-lambda'
import * as v from 'valibot'
import { createDynamoCredentialScanner } from '../../shared/adapters/credential-scanner.ts'
import { createLambdaHealthRunContinuation } from '../../shared/adapters/lambda-health-run-continuation.ts'
import {
  HealthRunEvent,
  type HealthRunSummary,
  runHealthChecks,
} from '../../shared/domain/health-check-run.ts'
import { AWS_CLIENT_CONFIG } from '../../shared/runtime/aws-client-config.ts'
import { requiredEnv } from '../../shared/runtime/config.ts'
import { credentialVerifier } from '../../shared/runtime/credential-verifier.ts'
import { dynamo, tableName } from '../../shared/runtime/dynamo.ts'
import { logger } from '../../shared/runtime/logger.ts'

const scanner = createDynamoCredentialScanner({ client: dynamo, tableName })
const lambda = new LambdaClient(AWS_CLIENT_CONFIG)
// a stage setting (cdk.json, validated at synth): a bad value fails the cold start loudly
const perHostPerSecond = Number(requiredEnv('HEALTH_CHECKS_PER_HOST_PER_SECOND'))
if (!Number.isFinite(perHostPerSecond) || perHostPerSecond <= 0) {
  throw new Error('HEALTH_CHECKS_PER_HOST_PER_SECOND must be a positive number')
}

/**
 * The scheduled health checks (EventBridge Scheduler, `{run_id: <scheduled time>}`), or a
 * continuation of one (`{run_id, cursor}`): re-verifies every credential through the internal
 * verifier, which records each outcome; a change of health becomes an event on the bus from
 * the table's stream.
 */
export async function handler(
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'functionName'>,
): Promise<HealthRunSummary> {
  const parsed = v.safeParse(HealthRunEvent, event)
  if (!parsed.success) {
    logger.error('health run refused: the event is not {run_id, cursor?}')
    throw new Error('invalid health run event')
  }
  const summary = await runHealthChecks(
    {
      scanner,
      verifier: credentialVerifier,
      // a continuation is a new invocation of this very function
      continuation: createLambdaHealthRunContinuation({ lambda, functionName: context.functionName }),
      clock: () => new Date(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      remainingMs: () => context.getRemainingTimeInMillis(),
    },
    {
      concurrency: 4,
      perHostPerSecond,
      pageSize: 25,
      // a page of checks is at most ~7 rounds of ~12 s: hand over with room to spare
      handOverBeforeMs: 120_000,
    },
    parsed.output,
  )
  logger.info('health run invocation done', { ...summary })
  return summary
}
