import { LambdaClient } from '@aws-sdk/client-lambda'

/**
 * A `LambdaClient` for a local stack's Invoke API (the gateway's own port): any credentials are
 * accepted there, and one attempt, so a failed invocation is seen rather than retried.
 */
export function localLambdaClient(endpoint: string, region = 'us-east-1'): LambdaClient {
  return new LambdaClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
}
