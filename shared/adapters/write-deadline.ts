import type { MiddlewareStack } from '@smithy/types'

/** A write was not sent: the invocation had too little time left to see its answer. */
export class WriteDeadlineError extends Error {
  override readonly name = 'WriteDeadlineError'
  constructor() {
    super('too little time left to send the write and see its answer')
  }
}

/**
 * Makes every attempt of `command` (the SDK's retries included) check the invocation's remaining
 * time just before it is sent, and refuse with {@link WriteDeadlineError} when less than
 * `attemptBudgetMs` is left.
 *
 * Why this closes the "stored after a 503" hole: the clients enforce `requestTimeout`
 * (`throwOnRequestTimeout`), so an attempt that is sent ends (answered, failed or timed out) within
 * `requestTimeout` of being sent. `remainingMs` counts down to the moment Middy gives up and
 * answers 503, and `attemptBudgetMs` is `requestTimeout` plus a margin, so every attempt that is
 * sent has ended on our side before that moment: the early-timeout 503 can never go out while a
 * write is in flight, and a run that carries on after it (Lambda resumes a frozen container's
 * pending work in a later invocation) finds its remaining time spent and sends nothing. An attempt
 * that timed out is retried with the same transaction token, which DynamoDB answers with the
 * first attempt's outcome; only a request that the network holds longer than its own timeout and
 * then delivers can still commit after we answered, and a create's Idempotency-Key record is in
 * the same transaction, so a retry with that key finds and replays it.
 */
export function withWriteDeadline<
  Input extends object,
  Output extends object,
  C extends { middlewareStack: MiddlewareStack<Input, Output> },
>(
  command: C & { middlewareStack: MiddlewareStack<Input, Output> },
  remainingMs: (() => number) | undefined,
  attemptBudgetMs: number,
): C {
  if (!remainingMs) return command
  command.middlewareStack.add(
    (next) => async (args) => {
      if (remainingMs() < attemptBudgetMs) throw new WriteDeadlineError()
      return next(args)
    },
    // inside the retry middleware (finalizeRequest, high priority): runs before each attempt
    // (unnamed: the document client copies a command's middleware into the one it sends)
    { step: 'finalizeRequest', priority: 'low' },
  )
  return command
}
