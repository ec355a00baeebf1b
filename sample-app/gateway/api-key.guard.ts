import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';

/** Orders need the x-api-key header; rejected requests still show up in the trace as 403s. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly config: ConfigService) {}

  canActivate(context: ExecutionContext): boolean {
    const key = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[
      'x-api-key'
    ];
    return key === this.config.get('API_KEY', 'demo-key');
  }
}
