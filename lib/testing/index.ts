export { TracingTestingModule } from './tracing-testing.module.js';
export { SpanRecorder } from './span-recorder.js';
