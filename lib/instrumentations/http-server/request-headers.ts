import type { TextMapGetter } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

/**
 * A request's headers for extraction, as node:http parsed them (names in lower case). Node
 * joins a repeated header with ", ", which would make two traceparent fields look like one
 * of a later version; W3C wants a new trace then, so a traceparent with a comma is handed
 * over as the list of fields it came in (`headersDistinct`), looked up only in that case.
 */
export const requestHeaders: TextMapGetter<IncomingMessage> = {
  keys: (req) => Object.keys(req.headers),
  get(req, key) {
    const value = req.headers[key];
    if (key === 'traceparent' && typeof value === 'string' && value.includes(',')) {
      return req.headersDistinct?.[key] ?? value;
    }
    return value;
  },
};
