import {
  context,
  createContextKey,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { Observable, tap } from 'rxjs';
import { runtimeOf, withRuntime } from '../../runtime/active-runtime.js';
import { subscribeInSpan } from '../../engine/subscribe-in-span.js';
import type { TracingRuntime } from '../../runtime/tracing-runtime.js';
import { extractParent } from './carriers.js';
import { loadPeer } from './peer.js';
import { addressAttributes, ERROR_TYPE, RPC_GRPC_STATUS_CODE, RPC_METHOD, RPC_SERVICE, RPC_SYSTEM } from './semconv.js';
import { endWithFailure, endWithSuccess } from '../../engine/span-outcome.js';

/**
 * gRPC: the context rides in the call's gRPC metadata. Spans follow the RPC conventions:
 * `package.Service/Method`, CLIENT on the caller, SERVER on the callee, for unary and
 * streaming calls alike.
 */
const INSTRUMENTED = Symbol('nestjs-tracing:grpc');
const OK = 0;
const UNKNOWN = 2;

interface MetadataLike {
  get(key: string): unknown[];
  set(key: string, value: string): void;
  getMap(): Record<string, unknown>;
  clone(): MetadataLike;
}
type MetadataClass = new () => MetadataLike;

const isMetadata = (value: unknown): value is MetadataLike =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as MetadataLike).set === 'function' &&
  typeof (value as MetadataLike).getMap === 'function' &&
  typeof (value as MetadataLike).clone === 'function';

const metadataGetter: TextMapGetter<MetadataLike> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get: (metadata, key) => {
    const values = metadata.get(key);
    if (values.length === 0) return undefined;
    return values.length === 1 ? String(values[0]) : values.map(String);
  },
};

const metadataSetter: TextMapSetter<MetadataLike> = { set: (metadata, key, value) => metadata.set(key, value) };

interface MethodInfo {
  name: string;
  attributes: Attributes;
}

/** "/orders.OrdersService/FindOne" → orders.OrdersService / FindOne. */
function methodInfo(path: unknown, fallbackMethod: string, fallbackService = 'unknown'): MethodInfo {
  let service = fallbackService;
  let method = fallbackMethod;
  if (typeof path === 'string') {
    const match = /^\/?([^/]+)\/([^/]+)$/.exec(path);
    if (match) {
      service = match[1]!;
      method = match[2]!;
    }
  }
  return {
    name: `${service}/${method}`,
    attributes: { [RPC_SYSTEM]: 'grpc', [RPC_SERVICE]: service, [RPC_METHOD]: method },
  };
}

/** For gRPC, error.type is the status code (RPC semantic conventions). */
const statusAttributes = (code: number): Attributes => ({ [RPC_GRPC_STATUS_CODE]: code, [ERROR_TYPE]: String(code) });

function statusCodeOf(error: unknown): number {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16 ? code : UNKNOWN;
}

/* ------------------------------------------------------------------ client */

type ServiceMethod = (...args: unknown[]) => Observable<unknown>;
interface GrpcProxyLike {
  createServiceMethod?: (client: unknown, methodName: string) => ServiceMethod;
  url?: unknown;
  [INSTRUMENTED]?: true;
}

/**
 * Every method of `ClientGrpc.getService()` is made by `createServiceMethod`, replaced on
 * this instance: the returned method starts a CLIENT span when its Observable is
 * subscribed (that is when the call is made) and passes a copy of the caller's metadata,
 * or new metadata, carrying the span's context.
 */
export function instrumentGrpcClient(proxy: GrpcProxyLike): void {
  if (proxy[INSTRUMENTED] || typeof proxy.createServiceMethod !== 'function') return;
  proxy[INSTRUMENTED] = true;
  const Metadata = loadPeer<{ Metadata?: MetadataClass }>('@grpc/grpc-js')?.Metadata;
  const address = addressAttributes(
    typeof proxy.url === 'string' ? proxy.url.replace(/^dns:(\/\/\/)?/, '') : undefined,
  );
  const create = proxy.createServiceMethod;
  proxy.createServiceMethod = function createTracedServiceMethod(
    this: unknown,
    client: unknown,
    methodName: string,
  ): ServiceMethod {
    const method = create.call(this, client, methodName);
    const info = methodInfo(
      (client as Record<string, { path?: unknown } | undefined> | null)?.[methodName]?.path,
      methodName,
    );
    const attributes = { ...info.attributes, ...address };
    return function tracedServiceMethod(this: unknown, ...args: unknown[]): Observable<unknown> {
      return new Observable((subscriber) => {
        const parent = context.active();
        let span: Span;
        let spanContext: Context;
        let callArgs: unknown[];
        try {
          if (isTracingSuppressed(parent)) return method.apply(this, args).subscribe(subscriber);
          const runtime = runtimeOf(parent);
          span = runtime.tracer.startSpan(info.name, { kind: SpanKind.CLIENT, attributes }, parent);
          spanContext = trace.setSpan(parent, span);
          callArgs = withMetadata(args, spanContext, Metadata, runtime.propagator);
        } catch (error) {
          runtimeOf(parent).report('starting a gRPC client span', error);
          return method.apply(this, args).subscribe(subscriber);
        }
        return subscribeInSpan(
          () => method.apply(this, callArgs),
          subscriber,
          spanContext,
          (failure) =>
            failure
              ? endWithFailure(span, failure.error, statusAttributes(statusCodeOf(failure.error)))
              : endWithSuccess(span, { [RPC_GRPC_STATUS_CODE]: OK }),
          parent,
        );
      });
    };
  };
}

/** The call's arguments with metadata at index 1 (where grpc-js and Nest expect it) carrying the context. */
function withMetadata(
  args: unknown[],
  spanContext: Context,
  Metadata: MetadataClass | undefined,
  propagator: TextMapPropagator,
): unknown[] {
  const given = args[1];
  const metadata = isMetadata(given) ? given.clone() : Metadata ? new Metadata() : undefined;
  if (!metadata) return args;
  propagator.inject(spanContext, metadata, metadataSetter);
  const callArgs = [...args];
  if (isMetadata(given)) callArgs[1] = metadata;
  else callArgs.splice(1, given === undefined ? 1 : 0, metadata);
  return callArgs;
}

/* ------------------------------------------------------------------ server */

/** The span of the call being handled, from runWithProcessingHooks down to transformToObservable. */
const CALL = createContextKey('nestjs-tracing grpc call');
interface CallSlot {
  span: Span;
  error?: unknown;
  failed: boolean;
  ended: boolean;
}

interface RequestStream {
  subject: unknown;
  next: (value: unknown) => void;
  error: (error: unknown) => void;
  complete: () => void;
}

interface GrpcServerLike {
  runWithProcessingHooks?: (
    rpcContext: unknown,
    fn: (runEndHook: () => void) => Promise<void>,
    endHookContext?: unknown,
  ) => unknown;
  transformToObservable?: (value: unknown) => Observable<unknown>;
  bufferUntilDrained?: () => RequestStream;
  [INSTRUMENTED]?: true;
}

/**
 * ServerGrpc runs every call (unary, server-, client- and bidirectional streaming) through
 * `runWithProcessingHooks`, with the call (path, metadata) as context, and turns the
 * handler's result into an Observable with `transformToObservable`, in that call's async
 * context. Both are replaced on this instance: the first starts and ends the SERVER span,
 * the second notes the error the response stream ends with (its gRPC status). Messages of
 * a client stream arrive on HTTP/2 socket events, outside any call's context: the
 * per-call buffer Nest feeds them into (`bufferUntilDrained`) hands them on in the call's.
 */
export function instrumentGrpcServer(server: GrpcServerLike, runtime: TracingRuntime): void {
  const run = server.runWithProcessingHooks;
  const transform = server.transformToObservable;
  if (server[INSTRUMENTED] || typeof run !== 'function' || typeof transform !== 'function') return;
  server[INSTRUMENTED] = true;
  const methods = new Map<string, MethodInfo>();

  server.runWithProcessingHooks = function runTraced(this: unknown, rpcContext, fn, endHookContext) {
    let slot: CallSlot;
    let spanContext: Context;
    try {
      const call = rpcContext as { path?: unknown; metadata?: unknown; operationId?: unknown };
      const path = typeof call?.path === 'string' ? call.path : '';
      let info = methods.get(path);
      if (!info) {
        info = methodInfo(path, typeof call?.operationId === 'string' ? call.operationId : 'unknown');
        if (path) methods.set(path, info);
      }
      const metadata = isMetadata(call?.metadata) ? call.metadata : undefined;
      const parent = extractParent(runtime.propagator, metadata, metadataGetter);
      const span = runtime.tracer.startSpan(info.name, { kind: SpanKind.SERVER, attributes: info.attributes }, parent);
      slot = { span, failed: false, ended: false };
      spanContext = withRuntime(trace.setSpan(parent, span), runtime).setValue(CALL, slot);
    } catch (error) {
      runtime.report('starting a gRPC server span', error);
      return run.call(this, rpcContext, fn, endHookContext);
    }
    const tracedFn = async (runEndHook: () => void): Promise<void> => {
      try {
        await fn(() => {
          endCall(slot);
          runEndHook();
        });
      } catch (error) {
        endCall(slot, error, true);
        throw error;
      }
    };
    return context.with(spanContext, run, this, rpcContext, tracedFn, endHookContext);
  };

  server.transformToObservable = function transformTraced(this: unknown, value: unknown): Observable<unknown> {
    const observable = transform.call(this, value);
    const slot = context.active().getValue(CALL) as CallSlot | undefined;
    if (!slot) return observable;
    return observable.pipe(
      tap({
        error: (error: unknown) => {
          slot.failed = true;
          slot.error = error;
        },
      }),
    );
  };

  const buffer = server.bufferUntilDrained;
  if (typeof buffer === 'function') {
    server.bufferUntilDrained = function bufferInCallContext(this: unknown): RequestStream {
      const stream = buffer.call(this);
      const callContext = context.active();
      if (!callContext.getValue(CALL)) return stream;
      const { next, error, complete } = stream;
      return {
        ...stream,
        next: (value) => context.with(callContext, next, undefined, value),
        error: (reason) => context.with(callContext, error, undefined, reason),
        complete: () => context.with(callContext, complete, undefined),
      };
    };
  }
}

function endCall(slot: CallSlot, error?: unknown, failed = false): void {
  if (slot.ended) return;
  slot.ended = true;
  if (failed || slot.failed) {
    const cause = failed ? error : slot.error;
    endWithFailure(slot.span, cause, statusAttributes(statusCodeOf(cause)));
  } else {
    endWithSuccess(slot.span, { [RPC_GRPC_STATUS_CODE]: OK });
  }
}
