/**
 * Defers building something until it is first needed, and builds it once: `load` runs on the first
 * call, and every call gets the same promise. Used with a dynamic `import()` for code only rare
 * requests run, so a container's cold start does not evaluate it. A failed load stays failed
 * (a module that cannot be loaded once cannot be loaded later either).
 */
export function loadOnFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined
  return () => {
    loaded ??= load()
    return loaded
  }
}
