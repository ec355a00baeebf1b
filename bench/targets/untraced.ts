/** Baseline: the same app with no tracing at all. */
import { appModule, PlainOrdersService } from './app.js';
import { serve } from './serve.js';

await serve({ module: appModule(PlainOrdersService) });
