import type { Context } from 'aws-lambda'
import { functionTimeoutSeconds } from '../infra/function-timeouts.ts'

/**
 * The Lambda context a locally invoked handler gets: its name, the request id, and the time left
 * until the function's timeout (the deployed one unless given), as on Lambda.
 */
export function lambdaContext(
  functionName: string,
  requestId: string,
  timeoutMs: number = functionTimeoutSeconds(functionName) * 1000,
): Context {
  const deadline = Date.now() + timeoutMs
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}
