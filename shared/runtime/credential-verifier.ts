import { LambdaClient } from '@aws-sdk/client-lambda'
import { createLambdaCredentialVerifier } from '../adapters/lambda-credential-verifier.ts'
import type { CredentialVerifier } from '../domain/credential-verification.ts'
import { AWS_CLIENT_CONFIG } from './aws-client-config.ts'
import { requiredEnv } from './config.ts'

/** How long one invocation of the verifier may take: its 5 s registry deadline plus KMS and DynamoDB. */
const VERIFIER_INVOKE_TIMEOUT_MS = 12_000

/**
 * The container's way to the internal verifier function: Lambda Invoke, endpoint per the SDK's
 * own settings (`AWS_ENDPOINT_URL_LAMBDA` points it at the local stack). One attempt: a retried
 * verification would outlast the function that waits for it.
 */
export const credentialVerifier: CredentialVerifier = createLambdaCredentialVerifier({
  lambda: new LambdaClient({
    ...AWS_CLIENT_CONFIG,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: VERIFIER_INVOKE_TIMEOUT_MS },
    maxAttempts: 1,
  }),
  functionName: requiredEnv('CREDENTIAL_VERIFIER_FUNCTION_NAME'),
})
