// what the Lambda bundles get for `http` (an esbuild alias in the RegistryFunction construct). An ES
// import of a builtin builds its namespace from every export, which for http evaluates the lazy
// WebSocket/EventSource getters and so loads Node's whole fetch implementation (undici) at cold
// start; getBuiltinModule hands over the module object and leaves them lazy. (Not `require`:
// esbuild would resolve that through the same alias, back to this file.)
module.exports = process.getBuiltinModule('node:http')
