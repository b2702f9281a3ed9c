import { afterAll } from 'vitest'
import { removeCdkOutdirs } from './cdk-outdir.ts'

// every test file: whatever the CDK apps of the file synthesized goes when the file is done
afterAll(removeCdkOutdirs)
