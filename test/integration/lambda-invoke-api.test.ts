import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SYNC_PAYLOAD_LIMIT_BYTES } from '../../local/lambda-invoke-api.ts'
import { type EventReceiver, startEventReceiver } from '../support/event-receiver.ts'
import { credentialItem, STREAM_ARN, streamImage } from '../support/stream-records.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let receiver: EventReceiver
let lambda: LambdaClient

beforeAll(async () => {
  receiver = await startEventReceiver()
  stack = await startTestStack({ eventTargetUrl: receiver.url })
  lambda = new LambdaClient({
    endpoint: stack.lambdaEndpoint,
    region: stack.kms.region,
    credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
    maxAttempts: 1,
  })
})

afterAll(async () => {
  lambda?.destroy()
  await stack?.close()
  await receiver?.close()
})

const payloadOf = (output: InvokeCommandOutput) => JSON.parse(new TextDecoder().decode(output.Payload))

async function invoke(functionName: string, payload: unknown, invocationType?: 'Event' | 'DryRun') {
  return lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
      ...(invocationType ? { InvocationType: invocationType } : {}),
    }),
  )
}

async function createCredential(secret: string, key?: string) {
  const response = await stack.request('POST', '/docker-registries', {
    body: { name: 'Hub', registry: 'dockerHub', username: 'deployer', secret },
    ...(key ? { key } : {}),
  })
  expect(response.status).toBe(201)
  return response.body as { id: string; company_id: string }
}

describe('the Lambda Invoke API of the local stack', () => {
  it('runs the real resolve function and returns its result (RequestResponse)', async () => {
    const credential = await createCredential('resolve-me-please')

    const output = await invoke('resolve-docker-registry', {
      company_id: credential.company_id,
      docker_registry_credential_id: credential.id,
      image: 'nginx:1.27',
    })

    expect(output.StatusCode).toBe(200)
    expect(output.FunctionError).toBeUndefined()
    expect(output.ExecutedVersion).toBe('$LATEST')
    expect(payloadOf(output)).toMatchObject({
      ok: true,
      registry_host: 'docker.io',
      username: 'deployer',
      password: 'resolve-me-please',
    })
  })

  it("answers not_found for another company's credential, exactly as for an unknown id", async () => {
    const credential = await createCredential('not-yours-to-resolve')
    const ask = (companyId: string, id: string) =>
      invoke('resolve-docker-registry', {
        company_id: companyId,
        docker_registry_credential_id: id,
        image: 'nginx',
      })

    const theirs = payloadOf(await ask(newCompanyId(), credential.id))
    const unknown = payloadOf(await ask(newCompanyId(), '019ac6a2-5225-723e-86b1-6818a883a106'))

    expect(theirs).toMatchObject({ ok: false, error: { code: 'not_found' } })
    expect(theirs).toEqual(unknown)
    expect(JSON.stringify(theirs)).not.toContain('not-yours-to-resolve')
  })

  it('accepts the function ARN as the name', async () => {
    const output = await invoke(
      `arn:aws:lambda:${stack.kms.region}:000000000000:function:resolve-docker-registry`,
      {},
    )

    expect(payloadOf(output)).toMatchObject({ ok: false, error: { code: 'invalid_request' } })
  })

  it("returns an unhandled error as Lambda does: X-Amz-Function-Error and the runtime's error payload", async () => {
    // the publisher is given something that is not a stream event: its handler throws
    const output = await invoke('publish-credential-events', { not: 'a stream event' })

    expect(output.StatusCode).toBe(200)
    expect(output.FunctionError).toBe('Unhandled')
    const payload = payloadOf(output)
    expect(payload).toMatchObject({ errorType: 'TypeError', errorMessage: expect.any(String) })
    expect(Array.isArray(payload.trace)).toBe(true)
  })

  it('runs an Event invocation detached and answers 202 at once', async () => {
    const item = credentialItem({ company_id: newCompanyId() })
    const streamEvent = {
      Records: [
        {
          eventID: 'event-invocation-1',
          eventName: 'INSERT',
          eventSource: 'aws:dynamodb',
          eventSourceARN: STREAM_ARN,
          dynamodb: {
            Keys: streamImage({ pk: item.pk, sk: item.sk }),
            NewImage: streamImage(item),
            SequenceNumber: '100',
            ApproximateCreationDateTime: 1_767_225_600,
            StreamViewType: 'NEW_AND_OLD_IMAGES',
          },
        },
      ],
    }

    const output = await invoke('publish-credential-events', streamEvent, 'Event')

    expect(output.StatusCode).toBe(202)
    // the real publisher ran: its event reached the bus and the receiver
    const events = await receiver.waitFor((bodies) =>
      bodies.some((body) => body.detail?.event_id === 'event-invocation-1'),
    )
    expect(events.find((body) => body.detail?.event_id === 'event-invocation-1')).toMatchObject({
      'detail-type': 'DockerRegistryCredentialCreated',
      detail: { company_id: item.company_id, id: item.id },
    })
  })

  it('prints the failure of an Event invocation', async () => {
    const output = captureOutput()
    try {
      const answer = await invoke('publish-credential-events', { not: 'a stream event' }, 'Event')
      expect(answer.StatusCode).toBe(202)
      for (let attempt = 0; attempt < 200 && !output.text().includes('(Event'); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    } finally {
      output.restore()
    }

    expect(output.text()).toMatch(
      /lambda invoke: publish-credential-events \(Event, request [\w-]+\) failed: TypeError/,
    )
  })

  it('answers DryRun with 204 without running the function', async () => {
    const output = await invoke('resolve-docker-registry', {}, 'DryRun')

    expect(output.StatusCode).toBe(204)
  })

  it('refuses an unknown function with 404 ResourceNotFoundException', async () => {
    const error = await invoke('no-such-function', {}).catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ResourceNotFoundException)
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404)
    expect((error as Error).message).toBe(
      `Function not found: arn:aws:lambda:${stack.kms.region}:000000000000:function:no-such-function`,
    )
  })

  it('refuses a qualifier other than $LATEST with 404', async () => {
    const error = await lambda
      .send(
        new InvokeCommand({
          FunctionName: 'resolve-docker-registry',
          Qualifier: 'live',
          Payload: new Uint8Array(),
        }),
      )
      .catch((caught: unknown) => caught)

    expect(error).toBeInstanceOf(ResourceNotFoundException)
  })

  it('refuses a payload over 6 MB with 413 RequestEntityTooLargeException', async () => {
    const payload = { padding: 'x'.repeat(SYNC_PAYLOAD_LIMIT_BYTES) }

    const error = await invoke('resolve-docker-registry', payload).catch((caught: unknown) => caught)

    // what Lambda's front end answers (the SDK has no class for it, so it keeps the name)
    expect((error as Error).name).toBe('RequestEntityTooLargeException')
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(413)
    expect((error as Error).message).toBe(
      'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
    )
  })

  it('accepts a payload of exactly 6 MB', async () => {
    const padding = 'x'.repeat(SYNC_PAYLOAD_LIMIT_BYTES - '{"padding":""}'.length)

    const output = await invoke('resolve-docker-registry', { padding })

    expect(payloadOf(output)).toMatchObject({ ok: false, error: { code: 'invalid_request' } })
  })

  it('refuses a payload that is not JSON with 400 InvalidRequestContentException', async () => {
    const error = await lambda
      .send(
        new InvokeCommand({
          FunctionName: 'resolve-docker-registry',
          Payload: new TextEncoder().encode('{nope'),
        }),
      )
      .catch((caught: unknown) => caught)

    expect((error as Error).name).toBe('InvalidRequestContentException')
  })

  it('refuses an unsigned request as Lambda does', async () => {
    const response = await fetch(
      `${stack.lambdaEndpoint}/2015-03-31/functions/resolve-docker-registry/invocations`,
      {
        method: 'POST',
        body: '{}',
      },
    )

    expect(response.status).toBe(403)
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException')
  })

  it('refuses a request whose Authorization is not a SigV4 signature', async () => {
    const response = await fetch(
      `${stack.lambdaEndpoint}/2015-03-31/functions/resolve-docker-registry/invocations`,
      {
        method: 'POST',
        headers: { authorization: 'Bearer rcs_not-aws' },
        body: '{}',
      },
    )

    expect(response.status).toBe(403)
    expect(response.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException')
  })

  it('serves every function folder, and the public API beside it on the same port', async () => {
    expect(stack.functions.names).toEqual(
      expect.arrayContaining([
        'resolve-docker-registry',
        'publish-credential-events',
        'create-docker-registry',
      ]),
    )
    const list = await stack.request('GET', '/docker-registries')
    expect(list.status).toBe(200)
  })
})
