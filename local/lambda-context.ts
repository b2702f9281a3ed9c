import type { Context } from 'aws-lambda'

/** The deployed functions' default timeout (RegistryFunction's default). */
export const DEFAULT_FUNCTION_TIMEOUT_MS = 10_000

/**
 * The Lambda context a locally invoked handler gets: its name, the request id, and the time left
 * until the function's timeout, as on Lambda.
 */
export function lambdaContext(
  functionName: string,
  requestId: string,
  timeoutMs: number = DEFAULT_FUNCTION_TIMEOUT_MS,
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
