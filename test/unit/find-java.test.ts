import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { findJava, JavaNotFoundError } from '../../local/dynamodb.ts'

const root = mkdtempSync(join(tmpdir(), 'find-java-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function fakeJava(folder: string): string {
  mkdirSync(folder, { recursive: true })
  const path = join(folder, 'java')
  writeFileSync(path, '#!/bin/sh\n')
  chmodSync(path, 0o755)
  return path
}

describe('findJava', () => {
  it('prefers JAVA_HOME, then PATH', () => {
    const home = join(root, 'home')
    const onPath = fakeJava(join(root, 'path-bin'))
    const inHome = fakeJava(join(home, 'bin'))

    expect(findJava({ JAVA_HOME: home, PATH: join(root, 'path-bin') }, [])).toBe(inHome)
    expect(findJava({ PATH: `${join(root, 'empty')}:${join(root, 'path-bin')}` }, [])).toBe(onPath)
  })

  it('names the install command in one line when there is no Java', () => {
    const find = () => findJava({ PATH: join(root, 'nothing-here') }, [join(root, 'no-java')])

    expect(find).toThrow(JavaNotFoundError)
    expect(find).toThrow(/apt-get install default-jre-headless/)
    expect(() => find()).not.toThrow(/\n/)
  })
})
