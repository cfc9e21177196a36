/**
 * An error pRuntime itself returns: prpc answers it as HTTP 500 with PrpcError{message}, bin_api as
 * `{"status":"error","payload":"{\"message\":...}"}`. The message is pRuntime's exact text.
 */
export class PRuntimeError extends Error {
  override name = 'PRuntimeError'
  readonly code = 'ERR_PRUNTIME'
}

/** A request body that does not decode: prpc 400 `DecodeError(...)`, bin_api "Decode input parameter failed". */
export class PRuntimeDecodeError extends Error {
  override name = 'PRuntimeDecodeError'
  readonly code = 'ERR_PRUNTIME_DECODE'
}
