import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import type { HealthRunContinuation } from '../domain/health-check-run.ts'
import { translateAwsError } from './aws-errors.ts'

/**
 * Continues a health run in a new invocation of the health-check function itself: an
 * asynchronous Lambda Invoke (`Event`), so this invocation ends while the next one runs, with
 * Lambda's own retries if it fails to start.
 */
export function createLambdaHealthRunContinuation(options: {
  lambda: LambdaClient
  functionName: string
}): HealthRunContinuation {
  const onError = translateAwsError('Lambda')
  return {
    async continueRun(event) {
      await options.lambda
        .send(
          new InvokeCommand({
            FunctionName: options.functionName,
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify(event)),
          }),
        )
        .catch(onError)
    },
  }
}
