/**
 * Guarantee 5: `redact` (with safe defaults) applies to every attribute recorded on the
 * app's spans, whoever sets it; request and response headers are recorded only when
 * listed in `captureHeaders`, still redacted; bodies never. Spans are read off the wire
 * by a real OTLP receiver.
 */
import { Body, Controller, Header, Injectable, Post, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, trace } from '@opentelemetry/api';
import { request as httpRequest } from 'node:http';
import { SpanAttr, Trace, TraceService, TracingModule } from 'nestjs-tracing';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlp-receiver.js';
import { baseUrl, listen, PLATFORMS } from '../../support/platforms.js';
import type { ReceivedSpan } from '../../support/received-span.js';

const SECRETS = [
  'Bearer sekret-bearer',
  'sid=sekret-cookie',
  'sekret-api-key',
  'sekret-password',
  'sekret-token',
  'sekret-body',
  'sekret-email',
  'sekret-set-cookie',
  'sekret-internal',
];

@Injectable()
class AccountService {
  constructor(private readonly traces: TraceService) {}

  @Trace()
  login(
    @SpanAttr('user.name') user: string,
    @SpanAttr('user.password') password: string,
    @SpanAttr('customer.email') email: string,
  ): boolean {
    this.traces.setAttribute('session.token', 'sekret-token');
    this.traces.setAttributes({ 'auth.api_key': 'sekret-api-key', 'app.ok': 'visible' });
    this.traces.addEvent('login', { 'db.secret': 'sekret-password', 'event.ok': 'visible' });
    // set straight on the span, past the library's helpers: still redacted
    trace.getSpan(context.active())?.setAttribute('x.authorization', 'Bearer sekret-bearer');
    return user.length > 0 && password.length > 0 && email.length > 0;
  }
}

@Controller()
class AccountController {
  constructor(private readonly accounts: AccountService) {}

  @Post('login')
  @Header('set-cookie', 'session=sekret-set-cookie')
  @Header('x-request-id', 'resp-42')
  @Header('x-internal', 'sekret-internal')
  login(@Body() body: { user: string; password: string; email: string }) {
    return { ok: this.accounts.login(body.user, body.password, body.email) };
  }
}

function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/login`,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const everyValue = (spans: ReceivedSpan[]): string =>
  JSON.stringify(spans.map((s) => [s.name, s.attributes, s.events, s.resource]));

const HEADERS = {
  authorization: 'Bearer sekret-bearer',
  cookie: 'sid=sekret-cookie',
  'x-api-key': 'sekret-api-key',
  'x-request-id': 'req-7',
  'x-internal': 'sekret-internal',
};
const BODY = JSON.stringify({ user: 'ada', password: 'sekret-password', email: 'sekret-email', note: 'sekret-body' });

async function start(
  platform: (typeof PLATFORMS)[number],
  receiver: OtlpReceiver,
  captureHeaders?: { request?: string[]; response?: string[] },
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TracingModule.forRoot({
        serviceName: 'accounts',
        exporter: 'otlp',
        otlp: { url: receiver.url },
        batch: { scheduledDelayMillis: 20 },
        redact: ['customer.email', 'x-internal'],
        resourceAttributes: { 'deployment.environment': 'test', 'db.password': 'sekret-password' },
        ...(captureHeaders ? { captureHeaders } : {}),
      }),
    ],
    controllers: [AccountController],
    providers: [AccountService],
  }).compile();
  return listen(moduleRef, platform);
}

describe.each(PLATFORMS)('sensitive data on %s', (platform) => {
  let receiver: OtlpReceiver;
  beforeEach(async () => (receiver = await startOtlpReceiver()));
  afterEach(() => receiver.close());

  it('records no header and no body by default, and redacts every sensitive attribute, whoever set it', async () => {
    const app = await start(platform, receiver);
    try {
      expect(await post(baseUrl(app), HEADERS, BODY)).toBe(201);
      const spans = await receiver.waitForSpans(2);
      const all = everyValue(spans);
      for (const secret of SECRETS) expect(all).not.toContain(secret);
      expect(all).not.toMatch(/http\.(request|response)\.header\./);
      const login = spans.find((s) => s.name === 'AccountService.login')!;
      expect(login.attributes).toMatchObject({
        'user.name': 'ada',
        'user.password': '[REDACTED]',
        'customer.email': '[REDACTED]',
        'session.token': '[REDACTED]',
        'auth.api_key': '[REDACTED]',
        'x.authorization': '[REDACTED]',
        'app.ok': 'visible',
      });
      expect(login.events[0]?.attributes).toEqual({ 'db.secret': '[REDACTED]', 'event.ok': 'visible' });
      expect(login.resource).toMatchObject({ 'deployment.environment': 'test', 'db.password': '[REDACTED]' });
    } finally {
      await app.close();
    }
  });

  it('records the headers listed in captureHeaders as string arrays, redacted all the same', async () => {
    const app = await start(platform, receiver, {
      request: ['X-Request-Id', 'authorization', 'cookie', 'x-internal', 'x-absent'],
      response: ['x-request-id', 'set-cookie', 'x-internal'],
    });
    try {
      expect(await post(baseUrl(app), HEADERS, BODY)).toBe(201);
      const spans = await receiver.waitForSpans(2);
      const server = spans.find((s) => s.kind === 'SERVER')!;
      expect(server.attributes).toMatchObject({
        'http.request.header.x-request-id': ['req-7'],
        'http.request.header.authorization': ['[REDACTED]'],
        'http.request.header.cookie': ['[REDACTED]'],
        'http.request.header.x-internal': ['[REDACTED]'],
        'http.response.header.x-request-id': ['resp-42'],
        'http.response.header.set-cookie': ['[REDACTED]'],
        'http.response.header.x-internal': ['[REDACTED]'],
      });
      expect(server.attributes).not.toHaveProperty('http.request.header.x-absent');
      expect(server.attributes).not.toHaveProperty('http.request.header.x-api-key');
      const all = everyValue(spans);
      for (const secret of SECRETS) expect(all).not.toContain(secret);
    } finally {
      await app.close();
    }
  });
});
