/**
 * The request target of the devnet's HTTP surfaces (control, pRuntime, JSON-RPC over HTTP), parsed
 * once and safely: a malformed target (`GET http://[ HTTP/1.1`) is answered 400 instead of throwing
 * `TypeError: Invalid URL` out of the request handler, which took the whole devnet down.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'

/** The target as a URL; undefined when it is malformed, after answering 400 and closing the connection. */
export function requestUrl(req: IncomingMessage, res: ServerResponse): URL | undefined {
  const target = req.url ?? '/'
  let url: URL | undefined
  try {
    url = new URL(target, 'http://localhost')
  } catch {
    url = undefined
  }
  if (url) return url
  req.resume()
  const body = `malformed request target ${JSON.stringify(target.slice(0, 200))}: send a path such as /status\n`
  res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end(body)
  return undefined
}

/**
 * The HTTP parser's own refusals (a request line it cannot read, headers too large): answer 400 when
 * the socket can still take it, as Node does by default, then close; never throw.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (socket.writable && err.code !== 'ECONNRESET' && !(socket as { _httpMessage?: unknown })._httpMessage) {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
    // end() lets the answer out; the timer closes a client that never reads it.
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    setTimeout(() => socket.destroy(), 1000).unref()
    return
  }
  socket.destroy()
}
