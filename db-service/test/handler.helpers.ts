import { randomUUID } from 'node:crypto';
import type { DecodedCommand } from '@mart/common/kafka';
import { commands, type CommandName, type CommandRequest } from '@mart/proto';
import { dbServiceConfigSchema, handlerSettings } from '../src/config.ts';
import type { HandlerSettings } from '../src/handler.ts';

/** What db-service tells its handlers when nothing is configured, for tests that run handlers directly. */
export const testHandlerSettings: HandlerSettings = handlerSettings(dbServiceConfigSchema.parse({}));

/** A command as the command server hands it over: its request through the wire's codec. */
export function command<N extends CommandName>(name: N, request: CommandRequest<N>, commandId: string = randomUUID()): DecodedCommand<N> {
  const codec = commands[name].request;
  return {
    name,
    request: codec.decode(codec.encode(request).finish()),
    meta: { commandId, requestId: undefined, deadline: Date.now() + 10_000 },
  };
}
