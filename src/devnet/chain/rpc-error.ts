/** A JSON-RPC error as a Substrate node returns it ({code, message, data?}). */
export class RpcError extends Error {
  readonly code: number
  readonly data?: string

  constructor(code: number, message: string, data?: string) {
    super(message)
    this.name = 'RpcError'
    this.code = code
    if (data !== undefined) this.data = data
  }

  static invalidParams(detail: string): RpcError {
    return new RpcError(-32602, 'Invalid params', detail)
  }

  toJSON(): { code: number; message: string; data?: string } {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data }
  }
}
