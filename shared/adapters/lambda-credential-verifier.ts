import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import {
  type CredentialVerificationAnswer,
  type CredentialVerifier,
  credentialVerificationEvent,
  reportOf,
} from '../domain/credential-verification.ts'
import { translateAwsError } from './aws-errors.ts'

/** Options of the Lambda-invoking verifier. */
export interface LambdaCredentialVerifierOptions {
  lambda: LambdaClient
  /** Name or ARN of the internal verifier function. */
  functionName: string
}

/** the verifier answered something that is not an answer: a bug or a misdeployment. */
class VerifierAnswerError extends Error {
  override readonly name = 'VerifierAnswerError'
}

function parseAnswer(payload: Uint8Array | undefined): CredentialVerificationAnswer {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8'))
  } catch {
    throw new VerifierAnswerError('the credential verifier answered with something that is not JSON')
  }
  const ok = (parsed as { ok?: unknown } | null)?.ok
  if (ok === true && typeof (parsed as { report?: unknown }).report === 'object') {
    return parsed as CredentialVerificationAnswer
  }
  if (ok === false && typeof (parsed as { error?: { code?: unknown } }).error?.code === 'string') {
    return parsed as CredentialVerificationAnswer
  }
  throw new VerifierAnswerError('the credential verifier answered with something that is not an answer')
}

/**
 * The {@link CredentialVerifier} as a synchronous Lambda Invoke of the internal verifier
 * function, signed with the caller's IAM role: deployed, the verify route's function; locally,
 * the same client pointed at the local stack's Invoke endpoint (`AWS_ENDPOINT_URL_LAMBDA`).
 * The payload holds ids, an image and a platform only; the answer holds a report, never a secret.
 */
export function createLambdaCredentialVerifier({
  lambda,
  functionName,
}: LambdaCredentialVerifierOptions): CredentialVerifier {
  const onError = translateAwsError('Lambda')
  return {
    async verify(request) {
      const output = await lambda
        .send(
          new InvokeCommand({
            FunctionName: functionName,
            InvocationType: 'RequestResponse',
            Payload: Buffer.from(JSON.stringify(credentialVerificationEvent(request))),
          }),
        )
        .catch(onError)
      // an unhandled error or a timeout inside the verifier: its payload describes it, and is
      // not shown to anyone
      if (output.FunctionError)
        throw new VerifierAnswerError(`the credential verifier failed (${output.FunctionError})`)
      return reportOf(parseAnswer(output.Payload), 'the credential verifier')
    },
  }
}
