import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'

/** An AWS JSON-protocol error to answer with. */
export interface InjectedFault {
  status: number
  /** `__type` of the error, e.g. `ThrottlingException`. */
  type: string
  message?: string
  /** Extra fields of the error body (`CancellationReasons` of a cancelled transaction). */
  fields?: Record<string, unknown>
}

/** How many calls a fault applies to: every call unless `times` says how many (the first ones). */
export interface FaultScope {
  times?: number
}

type Behaviour =
  | { kind: 'fail'; fault: InjectedFault }
  | { kind: 'drop' }
  | { kind: 'drop-answer' }
  | { kind: 'hang' }
  | { kind: 'hold-answer'; ms: number }

/** A proxy in front of a local AWS-protocol server that can fail chosen operations. */
export interface FaultProxy {
  endpoint: string
  /** Calls of `operation` (the X-Amz-Target suffix, e.g. `PutItem`) fail with `fault`. */
  fail(operation: string, fault: InjectedFault, scope?: FaultScope): void
  /** Calls of `operation` have their connection dropped before they reach the server. */
  drop(operation: string, scope?: FaultScope): void
  /**
   * Calls of `operation` reach the server, which carries them out; then the answer is thrown
   * away and the connection dropped, as when a network fails on the way back.
   */
  dropAnswer(operation: string, scope?: FaultScope): void
  /** Calls of `operation` are held and never forwarded (a hung call; only a timeout ends it). */
  hang(operation: string, scope?: FaultScope): void
  /** Calls of `operation` are carried out at once, and their answer held back for `ms`. */
  holdAnswer(operation: string, ms: number, scope?: FaultScope): void
  /** Stops failing anything. */
  heal(): void
  /** Calls of `operation` that reached the proxy. */
  attempts(operation: string): number
  /** Calls of `operation` the proxy forwarded to the server. */
  forwarded(operation: string): number
  /** The JSON bodies of the calls of `operation` that reached the proxy, oldest first. */
  requests(operation: string): Record<string, unknown>[]
  close(): Promise<void>
}

/**
 * Starts a pass-through proxy to `upstream`. The SDK sees real wire-format errors from it, so
 * its retry and error classification run exactly as against AWS.
 */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream)
  const behaviours = new Map<string, { behaviour: Behaviour; remaining: number }>()
  const attempts = new Map<string, number>()
  const forwards = new Map<string, number>()
  const bodies = new Map<string, Record<string, unknown>[]>()
  const held = new Set<ServerResponse>()

  const forward = (
    operation: string,
    request: IncomingMessage,
    body: Buffer,
    onAnswer: (status: number, headers: IncomingMessage['headers'], answer: Buffer) => void,
    response: ServerResponse,
  ) => {
    forwards.set(operation, (forwards.get(operation) ?? 0) + 1)
    const upstreamRequest = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (upstreamResponse) => {
        const chunks: Buffer[] = []
        upstreamResponse.on('data', (chunk: Buffer) => chunks.push(chunk))
        upstreamResponse.on('end', () =>
          onAnswer(upstreamResponse.statusCode ?? 502, upstreamResponse.headers, Buffer.concat(chunks)),
        )
      },
    )
    upstreamRequest.on('error', () => response.destroy())
    upstreamRequest.end(body)
  }

  const take = (operation: string): Behaviour | undefined => {
    const entry = behaviours.get(operation)
    if (!entry) return undefined
    entry.remaining -= 1
    if (entry.remaining <= 0) behaviours.delete(operation)
    return entry.behaviour
  }

  const server = createServer((request, response) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? ''
    attempts.set(operation, (attempts.get(operation) ?? 0) + 1)
    const behaviour = take(operation)
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks)
      try {
        bodies.set(operation, [...(bodies.get(operation) ?? []), JSON.parse(body.toString('utf8'))])
      } catch {
        // not JSON: nothing to record
      }
      const pass = (status: number, headers: IncomingMessage['headers'], answer: Buffer) => {
        if (response.destroyed) return
        response.writeHead(status, headers)
        response.end(answer)
      }
      switch (behaviour?.kind) {
        case undefined:
          return forward(operation, request, body, pass, response)
        case 'drop':
          return request.socket.destroy()
        case 'fail':
          response.writeHead(behaviour.fault.status, { 'content-type': 'application/x-amz-json-1.0' })
          return response.end(
            JSON.stringify({
              __type: behaviour.fault.type,
              message: behaviour.fault.message ?? 'injected fault',
              ...behaviour.fault.fields,
            }),
          )
        case 'drop-answer':
          return forward(operation, request, body, () => request.socket.destroy(), response)
        case 'hang':
          held.add(response)
          response.on('close', () => held.delete(response))
          return
        case 'hold-answer':
          return forward(
            operation,
            request,
            body,
            (status, headers, answer) => {
              const timer = setTimeout(() => pass(status, headers, answer), behaviour.ms)
              response.on('close', () => clearTimeout(timer))
            },
            response,
          )
      }
    })
  })
  const port = await listen(server)
  const set = (operation: string, behaviour: Behaviour, scope: FaultScope = {}) =>
    behaviours.set(operation, { behaviour, remaining: scope.times ?? Number.POSITIVE_INFINITY })
  return {
    endpoint: `http://127.0.0.1:${port}`,
    fail: (operation, fault, scope) => set(operation, { kind: 'fail', fault }, scope),
    drop: (operation, scope) => set(operation, { kind: 'drop' }, scope),
    dropAnswer: (operation, scope) => set(operation, { kind: 'drop-answer' }, scope),
    hang: (operation, scope) => set(operation, { kind: 'hang' }, scope),
    holdAnswer: (operation, ms, scope) => set(operation, { kind: 'hold-answer', ms }, scope),
    heal: () => behaviours.clear(),
    attempts: (operation) => attempts.get(operation) ?? 0,
    forwarded: (operation) => forwards.get(operation) ?? 0,
    requests: (operation) => bodies.get(operation) ?? [],
    async close() {
      for (const response of held) response.destroy()
      await closeServer(server)
    },
  }
}
