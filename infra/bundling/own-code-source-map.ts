const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const BASE64_VALUE = new Map([...BASE64].map((char, index) => [char, index]))

/** One decoded mapping segment, every field absolute. */
interface Segment {
  generatedColumn: number
  /** Absent for a segment that marks generated code with no original. */
  source?: number
  line?: number
  column?: number
  name?: number
}

function decodeVlq(text: string): number[] {
  const values: number[] = []
  let value = 0
  let shift = 0
  for (const char of text) {
    const digit = BASE64_VALUE.get(char)
    if (digit === undefined) throw new Error(`not a base64 VLQ digit: ${char}`)
    value += (digit & 31) * 2 ** shift
    if (digit & 32) {
      shift += 5
      continue
    }
    values.push(value & 1 ? -(value - 1) / 2 : value / 2)
    value = 0
    shift = 0
  }
  return values
}

function encodeVlq(values: readonly number[]): string {
  let text = ''
  for (const value of values) {
    let rest = value < 0 ? -value * 2 + 1 : value * 2
    do {
      let digit = rest & 31
      rest = Math.floor(rest / 32)
      if (rest > 0) digit |= 32
      text += BASE64[digit]
    } while (rest > 0)
  }
  return text
}

/** Decodes a source map's `mappings` into absolute segments, one array per generated line. */
export function decodeMappings(mappings: string): Segment[][] {
  let source = 0
  let line = 0
  let column = 0
  let name = 0
  return mappings.split(';').map((group) => {
    let generatedColumn = 0
    if (group === '') return []
    return group.split(',').map((text) => {
      const fields = decodeVlq(text)
      generatedColumn += fields[0] ?? 0
      if (fields.length < 4) return { generatedColumn }
      source += fields[1] ?? 0
      line += fields[2] ?? 0
      column += fields[3] ?? 0
      if (fields.length < 5) return { generatedColumn, source, line, column }
      name += fields[4] ?? 0
      return { generatedColumn, source, line, column, name }
    })
  })
}

/** Encodes absolute segments back into a `mappings` string. */
export function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  let source = 0
  let line = 0
  let column = 0
  let name = 0
  return lines
    .map((segments) => {
      let generatedColumn = 0
      return segments
        .map((segment) => {
          const fields = [segment.generatedColumn - generatedColumn]
          generatedColumn = segment.generatedColumn
          if (segment.source !== undefined && segment.line !== undefined && segment.column !== undefined) {
            fields.push(segment.source - source, segment.line - line, segment.column - column)
            source = segment.source
            line = segment.line
            column = segment.column
            if (segment.name !== undefined) {
              fields.push(segment.name - name)
              name = segment.name
            }
          }
          return encodeVlq(fields)
        })
        .join(',')
    })
    .join(';')
}

/** The parts of a version 3 source map this step reads and writes. */
export interface SourceMapV3 {
  version: 3
  sources: string[]
  mappings: string
  sourcesContent?: (string | null)[]
  [field: string]: unknown
}

/**
 * Reduces a bundle's source map to what a stack trace needs: for our sources the first segment of
 * each original line (a frame names its TypeScript file and line; the column is that of the line's
 * first mapped token), and for each run of dependency code its first segment only, so a frame
 * inside a dependency still names the dependency's file (at the line where that run starts)
 * rather than borrowing a neighbour's position. Node decodes a whole map the first time it formats
 * a stack (a container's first logged error), and that decoding grows with the segments: esbuild
 * writes one per token, about forty times as many. `sourcesContent` is dropped (a stack trace
 * needs positions, not sources), and `sources` and `names` keep only the entries still referenced.
 */
export function toOwnCodeSourceMap(map: SourceMapV3): SourceMapV3 {
  const names = Array.isArray(map.names) ? (map.names as string[]) : []
  const keptSources: string[] = []
  const keptNames: string[] = []
  const sourceIndex = new Map<number, number>()
  const nameIndex = new Map<number, number>()
  const reindex = (index: number, table: Map<number, number>, from: readonly string[], to: string[]) => {
    let mapped = table.get(index)
    if (mapped === undefined) {
      mapped = to.push(from[index] ?? '') - 1
      table.set(index, mapped)
    }
    return mapped
  }
  const lines = decodeMappings(map.mappings).map((segments) => {
    const kept: Segment[] = []
    let inDependency = false
    let previous: Segment | undefined
    for (const segment of segments) {
      const source = segment.source === undefined ? undefined : map.sources[segment.source]
      const isDependency = source?.includes('node_modules/') === true
      const startsRun = isDependency
        ? !inDependency
        : previous === undefined || previous.source !== segment.source || previous.line !== segment.line
      inDependency = isDependency
      previous = segment
      if (!startsRun) continue
      if (segment.source === undefined) {
        kept.push(segment)
        continue
      }
      kept.push({
        ...segment,
        source: reindex(segment.source, sourceIndex, map.sources, keptSources),
        name:
          segment.name === undefined || isDependency
            ? undefined
            : reindex(segment.name, nameIndex, names, keptNames),
      })
    }
    return kept
  })
  const { sourcesContent: _dropped, ...rest } = map
  return { ...rest, sources: keptSources, names: keptNames, mappings: encodeMappings(lines) }
}
