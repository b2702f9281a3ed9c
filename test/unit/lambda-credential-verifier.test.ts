import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, describe, expect, it } from 'vitest'
import { createLambdaCredentialVerifier } from '../../shared/adapters/lambda-credential-verifier.ts'
import {
  CredentialNotFoundError,
  DependencyUnavailableError,
  InvalidInputError,
} from '../../shared/domain/errors.ts'

// the answers a real verifier gives are covered end to end through the local Invoke API; these are
// the ones only a broken or throttled Lambda gives
const client = new LambdaClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
})
const lambda = mockClient(client)
const verifier = createLambdaCredentialVerifier({
  lambda: client,
  functionName: 'prefix-credential-verifier',
})
const request = {
  companyId: '0195f1f6-8f5e-7000-8000-000000000001',
  credentialId: '019ac6a2-5225-723e-86b1-6818a883a106',
}
const payload = (value: unknown) => ({
  StatusCode: 200,
  Payload: Buffer.from(JSON.stringify(value)) as never,
})

afterEach(() => {
  lambda.reset()
})

describe('createLambdaCredentialVerifier', () => {
  it('invokes the verifier synchronously with the ids only', async () => {
    const report = {
      id: request.credentialId,
      registry: 'github',
      registry_host: 'ghcr.io',
      result: 'ok',
      message: 'm',
      verified_at: '2026-12-01T00:00:00.000Z',
    }
    lambda.on(InvokeCommand).resolves(payload({ ok: true, report }))

    const answer = await verifier.verify({ ...request, image: 'ghcr.io/acme/api:1' })

    expect(answer).toEqual(report)
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input
    expect(input?.FunctionName).toBe('prefix-credential-verifier')
    expect(input?.InvocationType).toBe('RequestResponse')
    expect(JSON.parse(Buffer.from(input?.Payload as Uint8Array).toString('utf8'))).toEqual({
      company_id: request.companyId,
      docker_registry_credential_id: request.credentialId,
      image: 'ghcr.io/acme/api:1',
    })
  })

  it.each([
    [{ code: 'not_found', message: 'x' }, CredentialNotFoundError],
    [{ code: 'invalid_input', message: 'x', issues: [{ path: 'image', message: 'bad' }] }, InvalidInputError],
    [{ code: 'dependency_unavailable', message: 'x' }, DependencyUnavailableError],
  ])('turns the answer %j into its domain error', async (error, type) => {
    lambda.on(InvokeCommand).resolves(payload({ ok: false, error }))

    await expect(verifier.verify(request)).rejects.toBeInstanceOf(type)
  })

  it('fails on an unhandled error inside the verifier, without its payload in the message', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ ...payload({ errorMessage: 'secret stack' }), FunctionError: 'Unhandled' })

    await expect(verifier.verify(request)).rejects.toThrow(/^the credential verifier failed \(Unhandled\)$/)
  })

  it('fails on an answer that is not one', async () => {
    lambda.on(InvokeCommand).resolves(payload({ something: 'else' }))

    await expect(verifier.verify(request)).rejects.toThrow(/not an answer/)
  })

  it('answers 503-worthy DependencyUnavailableError when Lambda throttles', async () => {
    lambda.on(InvokeCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'TooManyRequestsException',
        $metadata: { httpStatusCode: 429 },
      }),
    )

    await expect(verifier.verify(request)).rejects.toBeInstanceOf(DependencyUnavailableError)
  })
})
