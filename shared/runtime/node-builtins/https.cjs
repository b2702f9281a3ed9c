// what the Lambda bundles get for `https` (an esbuild alias in the RegistryFunction construct): the
// module object itself, without evaluating its lazy exports (see http.cjs).
module.exports = process.getBuiltinModule('node:https')
