import type { INestApplication } from '@nestjs/common';

/** Starts on 127.0.0.1 and tells a parent process (the demo) where it listens. */
export async function listenAndAnnounce(app: INestApplication, name: string, port: number): Promise<void> {
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  const url = await app.getUrl();
  if (process.send) process.send({ ready: name, url: url.replace('[::1]', '127.0.0.1') });
  else console.log(`${name} listening on ${url}`);
}
