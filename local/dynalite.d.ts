declare module 'dynalite' {
  import type { Server } from 'node:http'

  /** Options of dynalite (see its readme). */
  interface DynaliteOptions {
    path?: string
    createTableMs?: number
    deleteTableMs?: number
    updateTableMs?: number
    maxItemSizeKb?: number
  }

  /** Creates an HTTP server speaking the DynamoDB wire protocol. */
  export default function dynalite(options?: DynaliteOptions): Server
}
