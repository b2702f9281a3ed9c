import { SourceMap } from 'node:module'
import { describe, expect, it } from 'vitest'
import {
  decodeMappings,
  encodeMappings,
  toOwnCodeSourceMap,
} from '../../infra/bundling/own-code-source-map.ts'

// one generated line: our code at columns 0, 5 (same original line) and 10, a dependency from 20
// to 40, our code again at 50
const map = {
  version: 3 as const,
  sources: ['../shared/a.ts', '../node_modules/dep/index.js', '../functions/b.ts'],
  sourcesContent: ['a', 'dep', 'b'],
  names: ['first', 'inDependency', 'second'],
  mappings: encodeMappings([
    [
      { generatedColumn: 0, source: 0, line: 4, column: 2, name: 0 },
      { generatedColumn: 5, source: 0, line: 4, column: 9 },
      { generatedColumn: 10, source: 0, line: 5, column: 0 },
      { generatedColumn: 20, source: 1, line: 100, column: 7, name: 1 },
      { generatedColumn: 30, source: 1, line: 101, column: 3 },
      { generatedColumn: 40, source: 1, line: 900, column: 0 },
      { generatedColumn: 50, source: 2, line: 7, column: 4, name: 2 },
    ],
    [{ generatedColumn: 3 }],
  ]),
}

describe('source map mappings', () => {
  it('decode what they encode, negative deltas and long values included', () => {
    const lines = [
      [
        { generatedColumn: 5, source: 3, line: 1200, column: 80, name: 40 },
        { generatedColumn: 9000, source: 0, line: 2, column: 0, name: 1 },
      ],
      [],
      [{ generatedColumn: 0 }, { generatedColumn: 4, source: 2, line: 0, column: 1 }],
    ]

    expect(decodeMappings(encodeMappings(lines))).toEqual(lines)
  })

  it('read what esbuild writes', () => {
    // "AAAA,EAAE;AACA": every field but the generated column is relative to the previous segment
    expect(decodeMappings('AAAA,EAAE;AACA')).toEqual([
      [
        { generatedColumn: 0, source: 0, line: 0, column: 0 },
        { generatedColumn: 2, source: 0, line: 0, column: 2 },
      ],
      [{ generatedColumn: 0, source: 0, line: 1, column: 2 }],
    ])
  })
})

describe('toOwnCodeSourceMap', () => {
  const own = toOwnCodeSourceMap(map)
  const consumer = new SourceMap(own as never)

  it('maps positions in our code to their file and line', () => {
    expect(consumer.findEntry(0, 7)).toMatchObject({ originalSource: '../shared/a.ts', originalLine: 4 })
    expect(consumer.findEntry(0, 12)).toMatchObject({ originalSource: '../shared/a.ts', originalLine: 5 })
    expect(consumer.findEntry(0, 55)).toMatchObject({
      originalSource: '../functions/b.ts',
      originalLine: 7,
      originalColumn: 4,
      name: 'second',
    })
  })

  it('maps a position inside a dependency to that dependency, where its run of code starts', () => {
    expect(consumer.findEntry(0, 35)).toMatchObject({
      originalSource: '../node_modules/dep/index.js',
      originalLine: 100,
    })
  })

  it('keeps one segment per original line of our code and per run of dependency code', () => {
    expect(decodeMappings(own.mappings)[0]?.map((segment) => segment.generatedColumn)).toEqual([
      0, 10, 20, 50,
    ])
  })

  it('keeps only the names of our code, and no sources content', () => {
    expect(own.names).toEqual(['first', 'second'])
    expect(own.sourcesContent).toBeUndefined()
  })
})
