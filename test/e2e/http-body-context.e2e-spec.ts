import 'reflect-metadata';
import { Controller, Injectable, Post, Req, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Trace } from 'nestjs-tracing';
import { SpanRecorder, TracingTestingModule } from 'nestjs-tracing/testing';
import { byName, parentId, spanId } from '../support/memory-tracing.js';

@Injectable()
class UploadService {
  @Trace()
  store(size: number) {
    return size;
  }
}

@Controller('upload')
class UploadController {
  constructor(private readonly uploads: UploadService) {}
  @Post()
  upload(@Req() req: IncomingMessage & { rawText?: string }) {
    return { size: this.uploads.store(req.rawText?.length ?? -1) };
  }
}

/** Reads the body with plain stream listeners, as multipart parsers do; no AsyncResource of its own. */
function plainBodyReader(req: IncomingMessage & { rawText?: string }, _res: unknown, next: () => void) {
  let text = '';
  req.on('data', (chunk: Buffer) => (text += chunk.toString()));
  req.on('end', () => {
    req.rawText = text;
    next();
  });
}

describe('request context across body stream events (express)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TracingTestingModule.forRoot({ serviceName: 'uploads', autoTrace: false })],
      controllers: [UploadController],
      providers: [UploadService],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false, bodyParser: false });
    nest.use(plainBodyReader);
    await nest.listen(0, '127.0.0.1');
    app = nest;
  });
  afterAll(() => app.close());

  it('parents work done after a late body chunk to the request span', async () => {
    const { port } = app.getHttpServer().address();
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.write('first part ');
      setTimeout(() => req.end('second part'), 30);
    });
    const spans = app.get(SpanRecorder).spans();
    const store = byName(spans, 'UploadService.store');
    expect(parentId(store)).toBe(spanId(byName(spans, 'POST /upload')));
  });
});
