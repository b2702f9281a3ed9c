import { createServer, type Server } from 'node:http'
import { closeServer, listen } from '../../local/server-lifecycle.ts'

/** One request the receiver got: its JSON body, and the status it answered. */
export interface ReceivedRequest {
  body: any
  contentType: string | undefined
  answered: number
}

/** A real HTTP endpoint standing in for the platform's event consumer (an API destination's target). */
export interface EventReceiver {
  url: string
  server: Server
  received: ReceivedRequest[]
  /** Bodies of the requests it accepted (answered 2xx). */
  accepted(): any[]
  /** Sets what the next requests are answered with (200 unless told otherwise). */
  answerWith(statuses: (received: number) => number): void
  /**
   * Polls until `predicate` holds for the accepted bodies, at most `attempts` times `intervalMs`
   * apart (a bound on work, not a wall-clock assertion), and returns them.
   */
  waitFor(predicate: (accepted: any[]) => boolean, attempts?: number, intervalMs?: number): Promise<any[]>
  close(): Promise<void>
}

/** Starts a receiver on a free loopback port. */
export async function startEventReceiver(): Promise<EventReceiver> {
  const received: ReceivedRequest[] = []
  let statusFor: (received: number) => number = () => 200
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = text
    }
    const answered = statusFor(received.length)
    received.push({ body, contentType: request.headers['content-type'], answered })
    response.writeHead(answered).end()
  })
  const port = await listen(server)
  const accepted = () => received.filter((request) => request.answered < 300).map((request) => request.body)
  return {
    url: `http://127.0.0.1:${port}/events`,
    server,
    received,
    accepted,
    answerWith(statuses) {
      statusFor = statuses
    },
    async waitFor(predicate, attempts = 200, intervalMs = 50) {
      for (let attempt = 0; attempt < attempts; attempt += 1) {
        if (predicate(accepted())) return accepted()
        await new Promise((resolve) => setTimeout(resolve, intervalMs))
      }
      throw new Error(`the receiver never got the expected events; it got ${JSON.stringify(accepted())}`)
    },
    close: () => closeServer(server),
  }
}
