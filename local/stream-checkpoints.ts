import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'

/**
 * Where the stream poller remembers, per shard, the last sequence number it handed over, as
 * Lambda's event source mapping keeps its own position: a restart reads on from there instead of
 * publishing every event the stream still holds again.
 */
export interface StreamCheckpoints {
  get(streamArn: string, shardId: string): string | undefined
  set(streamArn: string, shardId: string, sequenceNumber: string): void
}

/** Checkpoints for one run only. */
export function memoryCheckpoints(): StreamCheckpoints {
  const positions = new Map<string, string>()
  return {
    get: (streamArn, shardId) => positions.get(`${streamArn} ${shardId}`),
    set: (streamArn, shardId, sequenceNumber) =>
      void positions.set(`${streamArn} ${shardId}`, sequenceNumber),
  }
}

/**
 * Checkpoints kept in a JSON file (under `LOCAL_DATA_DIR`, next to DynamoDB Local's data, whose
 * stream survives a restart too). Written whole to a temporary file and renamed, so a crash leaves
 * the previous checkpoints, never a torn file; those only make events be published again, which
 * consumers deduplicate on `event_id`.
 */
export function fileCheckpoints(path: string): StreamCheckpoints {
  const positions: Record<string, string> = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : {}
  return {
    get: (streamArn, shardId) => positions[`${streamArn} ${shardId}`],
    set(streamArn, shardId, sequenceNumber) {
      positions[`${streamArn} ${shardId}`] = sequenceNumber
      writeFileSync(`${path}.tmp`, JSON.stringify(positions, null, 2))
      renameSync(`${path}.tmp`, path)
    },
  }
}
