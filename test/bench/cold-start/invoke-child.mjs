// a cold Lambda container, approximately: a fresh Node process imports one bundle and invokes its
// handler. Plain JavaScript run by bare `node`, so no loader or transpiler is measured with the bundle.
//   BENCH_BUNDLE  file of the bundle (index.mjs)
//   BENCH_MODE    `first`: one invocation, reports process start to response (wall and CPU time)
//                 and peak RSS
//                 `errors`: one invocation that succeeds, then (once the parent has made the
//                 dependencies fail) two that fail, and reports the wall and CPU time of each
//   BENCH_EVENTS  JSON array of the events to invoke with, in order
// results go to the parent as JSON lines on fd 3 (the handler's own logs use stdout), and the parent
// says "go" on stdin: no IPC channel, whose setup (child_process and its streams) would be
// measured with the bundle although no Lambda container has one.
// builtins as module objects, not ES imports (whose namespaces cost an ES facade each): the harness
// should add as little as it can to what every measured process pays.
const { readFileSync, readSync, writeSync } = process.getBuiltinModule('node:fs')
const { pathToFileURL } = process.getBuiltinModule('node:url')

const events = JSON.parse(process.env.BENCH_EVENTS ?? '[]')

function context(index) {
  const deadline = Date.now() + 10_000
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'cold-start-bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:cold-start-bench',
    memoryLimitInMB: '512',
    awsRequestId: `bench-${index}`,
    logGroupName: '/aws/lambda/cold-start-bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  }
}

function statusOf(response) {
  if (response && typeof response.statusCode === 'number') return response.statusCode
  // resolve answers with a result object instead of an HTTP response
  if (response && response.ok === true) return 200
  if (response && response.ok === false) return response.error?.code === 'internal_error' ? 500 : 400
  return 0
}

async function invoke(handler, index) {
  const started = performance.now()
  const cpuBefore = process.cpuUsage()
  let response
  try {
    response = await handler(events[index], context(index))
  } catch (error) {
    response = { statusCode: 599, thrown: String(error?.name) }
  }
  const ms = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, status: statusOf(response) }
}

// the process's resident-set high-water mark. Linux's VmHWM starts afresh at exec, unlike
// getrusage's maxRSS, which a spawned child inherits from its (much larger) parent.
function peakRssKiB() {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  if (!match) throw new Error('no VmHWM in /proc/self/status: the peak memory needs Linux')
  return Number(match[1])
}

function send(message) {
  writeSync(3, `${JSON.stringify(message)}\n`)
}

// the SDK keeps its sockets open (a Lambda container would be frozen here): exit once sent.
function report(result) {
  send(result)
  process.exit(0)
}

// blocks until the parent writes a byte to stdin (a pipe may be non-blocking: then poll)
function waitForParent() {
  const byte = Buffer.alloc(1)
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    try {
      if (readSync(0, byte, 0, 1, null) === 1) return
    } catch (error) {
      if (error?.code !== 'EAGAIN') throw error
    }
    Atomics.wait(pause, 0, 0, 2)
  }
}

const { handler } = await import(pathToFileURL(process.env.BENCH_BUNDLE ?? '').href)
if (process.env.BENCH_MODE === 'first') {
  const { status } = await invoke(handler, 0)
  const sinceStart = performance.now()
  const cpu = process.cpuUsage()
  report({ status, sinceStart, cpuMs: (cpu.user + cpu.system) / 1000, maxRssKiB: peakRssKiB() })
} else {
  const warm = await invoke(handler, 0)
  send({ phase: 'warm', status: warm.status })
  waitForParent()
  const first = await invoke(handler, 1)
  const second = await invoke(handler, 2)
  report({ warm, first, second, maxRssKiB: peakRssKiB() })
}
